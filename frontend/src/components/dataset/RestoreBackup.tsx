// Restore a project or task from a backup (CVAT's layout; ours or CVAT 2.x's): the file goes by
// the presigned direct upload, the restore request is polled, and the new project or task opens
// (the finished request's result_id).
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import type { BackgroundRequest } from "../../api/types";
import { formatBytes } from "../../lib/requests";
import { Dialog, ErrorBanner } from "../ui";
import { ProgressBar, RequestProgress } from "./RequestProgress";
import { directUpload, finishUpload, waitForRequest, type UploadProgress } from "./upload";
import "./dataset.css";

export function RestoreBackupButton({ resource }: { resource: "project" | "task" }) {
  const [open, setOpen] = useState(false);
  return (
    <span className="restore-backup">
      <button type="button" onClick={() => setOpen(true)}>
        Restore {resource} from backup
      </button>
      {open ? <RestoreDialog resource={resource} onClose={() => setOpen(false)} /> : null}
    </span>
  );
}

function RestoreDialog({ resource, onClose }: { resource: "project" | "task"; onClose(): void }) {
  const navigate = useNavigate();
  const [file, setFile] = useState<File | null>(null);
  const [upload, setUpload] = useState<UploadProgress | null>(null);
  const [request, setRequest] = useState<BackgroundRequest | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);
  const base = `/api/${resource}s/backup`;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    setRequest(null);
    const controller = new AbortController();
    abort.current = controller;
    try {
      const uploadId = await directUpload(base, file, setUpload, controller.signal);
      const rqId = await finishUpload(base, uploadId);
      const done = await waitForRequest(rqId, setRequest, controller.signal);
      if (done.result_id) {
        navigate(`/${resource}s/${done.result_id}`);
        return;
      }
      setBusy(false);
    } catch (e) {
      if (!controller.signal.aborted) {
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
