// Export a dataset (a format, with or without images) or a backup: the request starts, its
// progress shows, and the finished result is downloaded from its result_url (a same-origin URL
// that redirects to the stored archive, named by Content-Disposition).
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { api } from "../../api/client";
import type { BackgroundRequest } from "../../api/types";
import { Dialog, ErrorBanner, sameOriginHref, useLoad } from "../ui";
import { FormatSelect } from "./FormatSelect";
import { loadFormats, usableFormats, type DatasetResource } from "./formats";
import { RequestProgress } from "./RequestProgress";
import { waitForRequest } from "./upload";
import "./dataset.css";

export type ExportKind = "dataset" | "backup";

export function ExportDialog({ resource, id, name, kind, onClose }: { resource: DatasetResource; id: number; name?: string; kind: ExportKind; onClose(): void }) {
  const what = name ? `${resource} "${name}"` : `${resource} #${id}`;
  const formats = useLoad(() => (kind === "dataset" ? loadFormats(resource, id) : Promise.resolve(null)), [resource, id, kind]);
  const exporters = formats.data ? usableFormats(formats.data.formats.exporters, formats.data.dimension) : [];
  const [format, setFormat] = useState("");
  const [saveImages, setSaveImages] = useState(false);
  const [filename, setFilename] = useState("");
  const [request, setRequest] = useState<BackgroundRequest | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);
  const formId = useId();

  useEffect(() => () => abort.current?.abort(), []);
  const chosen = format || exporters[0]?.name || "";

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setRequest(null);
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    try {
      const params = kind === "dataset" ? { format: chosen, save_images: saveImages, filename: filename.trim() || undefined } : { filename: filename.trim() || undefined };
      const { rq_id } = await api.post<{ rq_id: string }>(`/api/${resource}s/${id}/${kind}/export`, undefined, params);
      await waitForRequest(rq_id, setRequest, controller.signal);
    } catch (e) {
      if (!controller.signal.aborted) setError(e);
    } finally {
      if (!controller.signal.aborted) setBusy(false);
    }
  }

  const title = kind === "backup" ? `Export a backup of ${what}` : `Export the dataset of ${what}`;
  const finished = request?.status === "finished" ? sameOriginHref(request.result_url) : null;
  return (
    <Dialog title={title} onClose={onClose}>
      <form id={formId} className="dataset-form" onSubmit={submit}>
        {kind === "dataset" ? (
          <>
            <FormatSelect label="Export format" formats={formats} names={exporters.map((f) => f.name)} value={chosen} onChange={setFormat} disabled={busy} />
            <label className="check">
              <input type="checkbox" checked={saveImages} onChange={(e) => setSaveImages(e.target.checked)} disabled={busy} />
              Save images
            </label>
            <p className="hint">Without images only the annotations are exported.</p>
          </>
        ) : (
          <p className="hint">A backup holds the {resource}, its labels, media and annotations in CVAT's backup layout; restore it from the {resource}s page.</p>
        )}
        <label>
          Custom file name (optional)
          <input type="text" value={filename} onChange={(e) => setFilename(e.target.value)} placeholder={kind === "backup" ? `${resource}_${id}_backup.zip` : `${resource}_${id}_dataset.zip`} disabled={busy} />
        </label>
        {request ? <RequestProgress request={request} /> : null}
        <ErrorBanner error={error} />
        {finished ? (
          <div className="dataset-done" role="status">
            <span>The {kind === "backup" ? "backup" : "export"} is ready.</span>
            <a className="button primary" href={finished} download>
              Download
            </a>
          </div>
        ) : null}
        <div className="actions">
          <button type="button" onClick={onClose}>
            {finished ? "Close" : "Cancel"}
          </button>
          <button type="submit" className={finished ? "" : "primary"} disabled={busy || (kind === "dataset" && !chosen)}>
            {busy ? "Exporting…" : finished ? "Export again" : "Export"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
