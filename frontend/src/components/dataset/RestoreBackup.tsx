// Restore a project or task from a backup (CVAT's layout; ours or CVAT 2.x's): the file goes by
// the presigned direct upload, the restore request is polled, and the new project or task opens
// (the finished request's result_id). Closing the dialog while the file uploads aborts the upload;
// closing it once the file is up leaves the restore running: the button keeps following it and
// says, beside itself, where the new project or task is, or why the restore failed.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import type { BackgroundRequest } from "../../api/types";
import { formatBytes } from "../../lib/requests";
import { Dialog, ErrorBanner, messageOf } from "../ui";
import { ProgressBar, RequestProgress } from "./RequestProgress";
import { directUpload, finishUpload, waitForRequest, type UploadProgress } from "./upload";
import "./dataset.css";

/** A restore followed after its dialog closed. */
type BackgroundRestore = { state: "running" } | { state: "failed"; message: string } | { state: "finished"; resultId: number | null };

export function RestoreBackupButton({ resource }: { resource: "project" | "task" }) {
  const [open, setOpen] = useState(false);
  const [background, setBackground] = useState<BackgroundRestore | null>(null);
  return (
    <span className="restore-backup">
      <button type="button" onClick={() => setOpen(true)}>
        Restore {resource} from backup
      </button>
      {background ? (
        <span className="dataset-status" role="status">
          {background.state === "running" ? (
            <>Restoring the {resource} in the background…</>
          ) : background.state === "failed" ? (
            <>The restore failed: {background.message}</>
          ) : background.resultId ? (
            <>
              The {resource} was restored: <Link to={`/${resource}s/${background.resultId}`}>open {resource} #{background.resultId}</Link>
            </>
          ) : (
            <>The {resource} was restored.</>
          )}{" "}
          {background.state !== "running" ? (
            <button type="button" className="link-button" onClick={() => setBackground(null)}>
              Dismiss
            </button>
          ) : null}
        </span>
      ) : null}
      {open ? <RestoreDialog resource={resource} onClose={() => setOpen(false)} onBackground={setBackground} /> : null}
    </span>
  );
}

function RestoreDialog({ resource, onClose, onBackground }: { resource: "project" | "task"; onClose(): void; onBackground(state: BackgroundRestore | null): void }) {
  const navigate = useNavigate();
  const [file, setFile] = useState<File | null>(null);
  const [upload, setUpload] = useState<UploadProgress | null>(null);
  const [request, setRequest] = useState<BackgroundRequest | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);
  const uploaded = useRef(false); // the file is up: the restore runs on the server whatever we do
  const detached = useRef(false); // the dialog closed after the upload: the button follows the request
  const background = useRef(onBackground);
  useEffect(() => {
    background.current = onBackground;
  }, [onBackground]);
  useEffect(
    () => () => {
      if (abort.current && uploaded.current && !abort.current.signal.aborted) {
        detached.current = true;
        background.current({ state: "running" });
      } else {
        abort.current?.abort();
      }
    },
    [],
  );
  const base = `/api/${resource}s/backup`;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    setRequest(null);
    const controller = new AbortController();
    abort.current = controller;
    uploaded.current = false;
    detached.current = false;
    try {
      const uploadId = await directUpload(base, file, setUpload, controller.signal);
      uploaded.current = true;
      const rqId = await finishUpload(base, uploadId);
      const done = await waitForRequest(rqId, setRequest, controller.signal);
      abort.current = null;
      if (detached.current) {
        background.current({ state: "finished", resultId: done.result_id ?? null });
        return;
      }
      if (done.result_id) {
        navigate(`/${resource}s/${done.result_id}`);
        return;
      }
      setBusy(false);
    } catch (e) {
      if (abort.current === controller) abort.current = null;
      if (detached.current) background.current({ state: "failed", message: messageOf(e) });
      else if (!controller.signal.aborted) {
        setError(e);
        setBusy(false);
      }
    }
  }

  return (
    <Dialog title={`Restore a ${resource} from a backup`} onClose={onClose}>
      <form className="dataset-form" onSubmit={submit}>
        <label>
          Backup file
          <input type="file" accept=".zip" onChange={(e) => setFile(e.target.files?.[0] ?? null)} disabled={busy} required />
        </label>
        {file ? (
          <p className="hint">
            {file.name}, {formatBytes(file.size)}
          </p>
        ) : null}
        <p className="hint">A new {resource} is made from the backup; issues, owners and assignees are not carried.</p>
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
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || !file}>
            {busy ? "Restoring…" : "Restore"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
