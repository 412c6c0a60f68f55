// the base styles first: each page's own stylesheet comes after them and refines them
import "./styles.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createBrowserRouter, RouterProvider } from "react-router";
import { App } from "./App";
import { SessionProvider } from "./auth/session";
import { api } from "./api/client";
import { firstListRequest } from "./lib/listQuery";

// The list a visitor opens is asked for now, beside loading the session, not after React's
// first render (benchmarks/ui_lists.py).
const first = firstListRequest(window.location.pathname, window.location.search);
if (first) api.prefetch(first.path, first.params);

// A data router with one catch-all route around the app's own <Routes>: what react-router's
// useBlocker needs, so the annotation workspace can ask before Back or a link leaves unsaved work.
const router = createBrowserRouter([
  {
    path: "*",
    element: (
      <SessionProvider>
        <App />
      </SessionProvider>
    ),
  },
]);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <RouterProvider router={router} />
  </StrictMode>,
);
