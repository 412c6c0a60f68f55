// Small building blocks every page uses: loading/empty/error states, a pager, a dialog, and a
// hook that loads data and reloads it when its inputs change.
import { useCallback, useEffect, useId, useRef, useState, type DependencyList, type ReactNode } from "react";
import { ApiError } from "../api/client";

export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function ErrorBanner({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <div role="alert" className="error-banner">
      <span>{messageOf(error)}</span>
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      {what}…
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/** Runs `load` now and whenever `deps` change; the newest call wins. */
export function useLoad<T>(load: () => Promise<T>, deps: DependencyList): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const call = ++latest.current;
    setLoading(true);
    load().then(
      (value) => {
        if (call !== latest.current) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (reason: unknown) => {
        if (call !== latest.current) return;
        setError(reason);
        setLoading(false);
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

export function Pager({ page, pageSize, count, onPage }: { page: number; pageSize: number; count: number; onPage(page: number): void }) {
  const pages = Math.max(1, Math.ceil(count / pageSize));
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)} aria-label="Previous page">
        ‹
      </button>
      <span>
        Page {page} of {pages} ({count} in all)
      </span>
      <button type="button" disabled={page >= pages} onClick={() => onPage(page + 1)} aria-label="Next page">
        ›
      </button>
    </nav>
  );
}

export function Dialog({ title, onClose, children }: { title: string; onClose(): void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  // the control that opened the dialog (focused at the first render, before showModal moves focus)
  const [opener] = useState(() => (typeof document === "undefined" ? null : document.activeElement));
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    // the dialog leaves the DOM without close(): the browser would leave focus on <body>
    return () => {
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    };
  }, [opener]);
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onClose={onClose}
      onCancel={(event) => {
        event.preventDefault(); // Escape: the owner unmounts it (else onClose runs twice: cancel, then close)
        onClose();
      }}
      className="dialog"
    >
      <header>
        <h2 id={titleId}>{title}</h2>
        <button type="button" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      {children}
    </dialog>
  );
}

export function ConfirmDialog({ title, message, confirm = "Delete", onConfirm, onClose }: { title: string; message: ReactNode; confirm?: string; onConfirm(): Promise<void> | void; onClose(): void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <Dialog title={title} onClose={onClose}>
      <p>{message}</p>
      <ErrorBanner error={error} />
      <div className="actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="danger"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            try {
              await onConfirm();
              onClose();
            } catch (e) {
              setError(e);
            } finally {
              setBusy(false);
            }
          }}
        >
          {confirm}
        </button>
      </div>
    </Dialog>
  );
}

// one formatter for every date shown: toLocaleString() builds a new one per call (~1 ms each, 20+
// per list page)
let dates: Intl.DateTimeFormat | undefined;

export function formatDate(value: string | null | undefined): string {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  dates ??= new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "medium" });
  return dates.format(date);
}

/** An http(s) URL to link to, or null: a user-entered link (a bug tracker) never becomes a
 *  `javascript:` or `data:` link. */
export function safeHref(value: string | null | undefined): string | null {
  if (!value) return null;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** A server-given link of this app (a request's result_url: `/api/...`, or an absolute URL on this
 *  origin) as a same-origin href, or null: a download never goes to another origin or scheme. */
export function sameOriginHref(value: string | null | undefined, origin: string = typeof window === "undefined" ? "http://localhost" : window.location.origin): string | null {
  if (!value) return null;
  try {
    const url = new URL(value, origin);
    return url.origin === origin && (url.protocol === "http:" || url.protocol === "https:") ? url.pathname + url.search + url.hash : null;
  } catch {
    return null;
  }
}

/** The end of a details form: the API's error, "Saved." after a save, and the submit button. */
export function SaveFooter({ error, saved, busy, label = "Save details" }: { error: unknown; saved: boolean; busy: boolean; label?: string }) {
  return (
    <div className="wide">
      <ErrorBanner error={error} />
      {saved ? (
        <p className="notice" role="status">
          Saved.
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {label}
        </button>
      </div>
    </div>
  );
}
