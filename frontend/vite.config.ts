import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// `npm run dev` serves the UI on :5173 against `cvat-serverless up` on :8080 (same-origin /api).
export default defineConfig({
  plugins: [react()],
  server: { proxy: { "/api": "http://127.0.0.1:8080" } },
  // the canvas's Konva: core and the nodes it uses (src/annotation/canvas/konvaCore.ts)
  resolve: { alias: [{ find: /^konva$/, replacement: decodeURIComponent(new URL("./src/annotation/canvas/konvaCore.ts", import.meta.url).pathname) }] },
  build: {
    outDir: "dist",
    sourcemap: false,
    chunkSizeWarningLimit: 600,
    // the canvas benchmark page (benchmarks/ui_canvas.py) is a second entry, never linked from the app
    rollupOptions: { input: { main: "index.html", bench: "bench/canvas.html" } },
  },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
