// Prints the gzip size of every built JS/CSS file and fails when the app shell (what index.html
// loads before any route is opened) is over its budget (issue 13: 250 KiB gzip).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_KIB = 250;
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const shell = new Set([...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]));
let shellBytes = 0;
for (const name of readdirSync(join(dist, "assets")).sort()) {
  if (!/\.(js|css)$/.test(name)) continue;
  const gz = gzipSync(readFileSync(join(dist, "assets", name))).length;
  const inShell = shell.has(`assets/${name}`);
  if (inShell) shellBytes += gz;
  console.log(`${inShell ? "shell" : "lazy "} ${(gz / 1024).toFixed(1).padStart(7)} KiB gzip  assets/${name}`);
}
const kib = shellBytes / 1024;
console.log(`app shell: ${kib.toFixed(1)} KiB gzip (budget ${BUDGET_KIB} KiB)`);
if (kib > BUDGET_KIB) {
  console.error("app shell over budget");
  process.exit(1);
}
