// Import annotations into a task or job, or a dataset into a project's tasks: the file goes by
// the presigned direct upload (upload.ts), then the import request is polled until it ends; a
// damaged file fails with the importer's message and leaves the annotations as they were.
// Closing the dialog while the file uploads aborts the upload; closing it once the file is up
// leaves the import running: the request is still followed (module-level, the dialog is gone),
// `onChanged` fires when it finishes, and ImportStatus (beside the actions) shows a failure.
import { useEffect, useRef, useState, useSyncExternalStore, type FormEvent } from "react";
import type { BackgroundRequest } from "../../api/types";
import { formatBytes } from "../../lib/requests";
import { Dialog, ErrorBanner, messageOf, useLoad } from "../ui";
import { FormatSelect } from "./FormatSelect";
import { acceptOf, loadFormats, usableFormats, type DatasetResource } from "./formats";
import { ProgressBar, RequestProgress } from "./RequestProgress";
import { directUpload, finishUpload, waitForRequest, type UploadProgress } from "./upload";
import "./dataset.css";

/** An import followed after its dialog closed, by `resource:id`. */
type BackgroundImport = { state: "running" } | { state: "failed"; message: string };
const backgroundImports = new Map<string, BackgroundImport>();
const backgroundListeners = new Set<() => void>();

function setBackgroundImport(key: string, value: BackgroundImport | null) {
  if (value) backgroundImports.set(key, value);
  else backgroundImports.delete(key);
  for (const listener of backgroundListeners) listener();
}

function subscribeBackground(listener: () => void): () => void {
  backgroundListeners.add(listener);
  return () => backgroundListeners.delete(listener);
}

/** A status line for an import still running, or failed, after its dialog was closed. */
export function ImportStatus({ resource, id }: { resource: DatasetResource; id: number }) {
  const key = `${resource}:${id}`;
  const entry = useSyncExternalStore(subscribeBackground, () => backgroundImports.get(key) ?? null, () => null);
  if (!entry) return null;
  const noun = resource === "project" ? "dataset" : "annotations";
  return (
    <span className="dataset-status" role="status">
      {entry.state === "running" ? (
        <>Importing the {noun} in the background…</>
      ) : (
        <>
          The import of the {noun} failed: {entry.message}{" "}
          <button type="button" className="link-button" onClick={() => setBackgroundImport(key, null)}>
            Dismiss
          </button>
        </>
      )}
    </span>
  );
}

export function ImportDialog({ resource, id, name, onClose, onChanged }: { resource: DatasetResource; id: number; name?: string; onClose(): void; onChanged?(): void }) {
  const what = name ? `${resource} "${name}"` : `${resource} #${id}`;
  const formats = useLoad(() => loadFormats(resource, id), [resource, id]);
  const importers = formats.data ? usableFormats(formats.data.formats.importers, formats.data.dimension) : [];
  const [format, setFormat] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [mode, setMode] = useState<"replace" | "append">("replace");
  const [convMasks, setConvMasks] = useState(false);
  const [upload, setUpload] = useState<UploadProgress | null>(null);
  const [request, setRequest] = useState<BackgroundRequest | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);
  const uploaded = useRef(false); // the file is up: the import runs on the server whatever we do
  const detached = useRef(false); // the dialog closed after the upload: the request is followed in the background
  const changed = useRef(onChanged);
  useEffect(() => {
    changed.current = onChanged;
  }, [onChanged]);
  const key = `${resource}:${id}`;
  useEffect(
    () => () => {
      if (abort.current && uploaded.current && !abort.current.signal.aborted) {
        detached.current = true;
        setBackgroundImport(key, { state: "running" });
      } else {
        abort.current?.abort();
      }
    },
    [key],
  );

  const chosen = format || importers[0]?.name || "";
  const chosenFormat = importers.find((f) => f.name === chosen);
  const base = resource === "project" ? `/api/projects/${id}/dataset` : `/api/${resource}s/${id}/annotations`;
  const noun = resource === "project" ? "dataset" : "annotations";

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    setRequest(null);
    setUpload(null);
    const controller = new AbortController();
    abort.current = controller;
    uploaded.current = false;
    detached.current = false;
    try {
      const uploadId = await directUpload(base, file, setUpload, controller.signal);
      uploaded.current = true;
      const params = resource === "project" ? { format: chosen } : { format: chosen, import_mode: mode, conv_mask_to_poly: convMasks };
      const rqId = await finishUpload(base, uploadId, params);
      await waitForRequest(rqId, setRequest, controller.signal);
      if (detached.current) setBackgroundImport(key, null);
      changed.current?.();
    } catch (e) {
      if (detached.current) setBackgroundImport(key, { state: "failed", message: messageOf(e) });
      else if (!controller.signal.aborted) setError(e);
    } finally {
      if (abort.current === controller) abort.current = null;
      if (!controller.signal.aborted && !detached.current) setBusy(false);
    }
  }

  const finished = request?.status === "finished";
  return (
    <Dialog title={`Import ${noun} into ${what}`} onClose={onClose}>
      <form className="dataset-form" onSubmit={submit}>
        <FormatSelect label="Import format" formats={formats} names={importers.map((f) => f.name)} value={chosen} onChange={setFormat} disabled={busy} />
        <label>
          {resource === "project" ? "Dataset file" : "Annotation file"}
          <input type="file" accept={acceptOf(chosenFormat)} onChange={(e) => setFile(e.target.files?.[0] ?? null)} disabled={busy} required />
        </label>
        {file ? (
          <p className="hint">
            {file.name}, {formatBytes(file.size)}
          </p>
        ) : null}
        {resource === "project" ? (
          <p className="hint">Items go into the project's existing tasks by frame name.</p>
        ) : (
          <>
            <label>
              Existing annotations
              <select value={mode} onChange={(e) => setMode(e.target.value as "replace" | "append")} disabled={busy}>
                <option value="replace">Replace them</option>
                <option value="append">Keep them and add the imported ones</option>
              </select>
            </label>
            <label className="check">
              <input type="checkbox" checked={convMasks} onChange={(e) => setConvMasks(e.target.checked)} disabled={busy} />
              Convert masks to polygons
            </label>
          </>
        )}
        {upload && !request ? (
          <div className="request-progress">
            <span>
              Uploading {formatBytes(upload.sent)} of {formatBytes(upload.total)}
            </span>
            <ProgressBar request={{ status: "started", progress: upload.total ? upload.sent / upload.total : 0 }} label="Upload progress" />
          </div>
        ) : null}
        {request ? <RequestProgress request={request} /> : null}
        <ErrorBanner error={error} />
        {finished ? (
          <div className="dataset-done" role="status">
            <span>The {noun} {resource === "project" ? "was" : "were"} imported.</span>
          </div>
        ) : null}
        <div className="actions">
          <button type="button" onClick={onClose}>
            {finished ? "Close" : "Cancel"}
          </button>
          <button type="submit" className="primary" disabled={busy || !file || !chosen}>
            {busy ? "Importing…" : "Import"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
