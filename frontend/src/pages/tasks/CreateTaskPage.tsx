// /tasks/create: CVAT's create-task form. A task (POST /api/tasks; or, with ?task_id=, an existing
// task without data), then its data: local files straight to S3 through presigned multipart
// uploads (lib/upload), files of the server share, or remote URLs; then CVAT's Upload-Finish and
// the background request until the task is ready (README "Upload paths").
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api } from "../../api/client";
import type { BackgroundRequest, Label, Paginated, Project, Task } from "../../api/types";
import { LabelsEditor } from "../../components/labels/LabelsEditor";
import { ConfirmDialog, ErrorBanner, Loading, useLoad } from "../../components/ui";
import { dataParams, DEFAULT_OPTIONS, DirectUploader, parseUrls, taskBody, waitForRequest, type AdvancedOptions, type DataSource } from "../../lib/upload";
import { duplicateNames, type Progress } from "../../lib/uploadPlan";
import { AdvancedFields } from "./create/AdvancedFields";
import { LocalFiles, type LocalItem } from "./create/LocalFiles";
import { ShareBrowser } from "./create/ShareBrowser";
import { Bar, UploadProgress } from "./create/UploadProgress";
import "./create/create.css";

type Source = "local" | "share" | "remote";
type Phase = "idle" | "creating" | "uploading" | "paused" | "finishing" | "processing";

const SOURCES: { key: Source; label: string }[] = [
  { key: "local", label: "My computer" },
  { key: "share", label: "Connected file share" },
  { key: "remote", label: "Remote sources" },
];

function idParam(value: string | null): number | null {
  return value && /^\d+$/.test(value) ? Number(value) : null;
}

export default function CreateTaskPage() {
  const [search, setSearch] = useSearchParams();
  const navigate = useNavigate();
  const existingId = idParam(search.get("task_id"));
  const source: Source = (["local", "share", "remote"] as const).find((s) => s === search.get("source")) ?? "local";

  const [name, setName] = useState("");
  const [projectId, setProjectId] = useState<number | null>(idParam(search.get("project_id")));
  const [labels, setLabels] = useState<Label[]>([]);
  const [subset, setSubset] = useState("");
  const [items, setItems] = useState<LocalItem[]>([]);
  const [shareDir, setShareDir] = useState("");
  const [sharePaths, setSharePaths] = useState<string[]>([]);
  const [urls, setUrls] = useState("");
  const [options, setOptions] = useState<AdvancedOptions>(DEFAULT_OPTIONS);

  const [phase, setPhase] = useState<Phase>("idle");
  const [error, setError] = useState<unknown>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [uploadFiles, setUploadFiles] = useState<{ name: string; size: number }[]>([]);
  const [request, setRequest] = useState<BackgroundRequest | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [createdId, setCreatedId] = useState<number | null>(null);
  const uploader = useRef<DirectUploader | null>(null);
  const polling = useRef<AbortController | null>(null);
  const params = useRef<Record<string, unknown>>({});

  const projects = useLoad(() => api.get<Paginated<Project>>("/api/projects", { page_size: 100, sort: "name" }), []);
  const existing = useLoad(() => (existingId === null ? Promise.resolve(null) : api.get<Task>(`/api/tasks/${existingId}`)), [existingId]);

  // leaving the page stops the upload (its parts in flight) and the polling
  useEffect(
    () => () => {
      uploader.current?.pause();
      polling.current?.abort();
    },
    [],
  );

  const busy = phase !== "idle";
  const taskId = existingId ?? createdId;

  const setParam = (key: string, value: string | null) =>
    setSearch(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (value === null || value === "") next.delete(key);
        else next.set(key, value);
        return next;
      },
      { replace: true },
    );

  const fail = (reason: unknown) => {
    setPhase("idle");
    setError(reason);
    setRequest(null);
  };

  /** The background request until it ends: the task page when finished, the message when failed. */
  const follow = async (id: number, rqId: string) => {
    setPhase("processing");
    const controller = new AbortController();
    polling.current = controller;
    const final = await waitForRequest(api, rqId, setRequest, { signal: controller.signal });
    if (final.status === "finished") navigate(`/tasks/${id}`);
    else throw new Error(final.message || "The data could not be processed.");
  };

  /** The parts are in S3: complete the uploads, then CVAT's Upload-Finish. */
  const upload = async (up: DirectUploader, id: number) => {
    setPhase("uploading");
    if ((await up.run()) === "paused") {
      setPhase("paused");
      return;
    }
    setPhase("finishing");
    await up.complete();
    uploader.current = null;
    const { rq_id } = await api.post<{ rq_id: string }>(`/api/tasks/${id}/data/`, params.current, undefined, { "Upload-Finish": "true" });
    await follow(id, rq_id);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setError(null);
    setRequest(null);
    let data: DataSource;
    let body: Record<string, unknown> | null = null;
    try {
      if (source === "local") {
        data = { kind: "local", paths: items.map((i) => i.path) };
        const twice = duplicateNames(data.paths);
        if (twice.length) throw new Error(`Files are stored by name; these names are chosen twice: ${twice.join(", ")}.`);
      } else if (source === "share") data = { kind: "share", paths: sharePaths };
      else data = { kind: "remote", urls: parseUrls(urls) };
      params.current = dataParams(options, data);
      if (taskId === null) body = taskBody({ name, projectId, labels, subset, options });
    } catch (reason) {
      setError(reason);
      return;
    }
    let id = taskId;
    try {
      if (id === null) {
        setPhase("creating");
        id = (await api.post<Task>("/api/tasks", body)).id;
        setCreatedId(id);
      }
      if (data.kind === "local") {
        setProgress(null);
        setUploadFiles([]);
        const up = new DirectUploader({ api, taskId: id, files: items.map((i) => i.file), onProgress: setProgress });
        uploader.current = up;
        setPhase("uploading");
        await up.start();
        setUploadFiles(up.plan.map((f) => ({ name: items[f.index]?.path ?? f.name, size: f.size })));
        await upload(up, id);
      } else {
        setPhase("finishing");
        const { rq_id } = await api.post<{ rq_id: string }>(`/api/tasks/${id}/data/`, params.current);
        await follow(id, rq_id);
      }
    } catch (reason) {
      const up = uploader.current;
      uploader.current = null;
      if (up) await up.abort().catch(() => undefined);
      fail(reason);
    }
  };

  const pause = () => uploader.current?.pause();
  const resume = async () => {
    const up = uploader.current;
    if (!up || taskId === null) return;
    setError(null);
    try {
      await upload(up, taskId);
    } catch (reason) {
      uploader.current = null;
      await up.abort().catch(() => undefined);
      fail(reason);
    }
  };

  const cancel = async () => {
    const up = uploader.current;
    uploader.current = null;
    polling.current?.abort();
    if (up) await up.abort();
    if (createdId !== null) {
      await api.delete(`/api/tasks/${createdId}`);
      setCreatedId(null);
    }
    setPhase("idle");
    setProgress(null);
    setRequest(null);
    setError(null);
  };

  const projectList = projects.data?.results ?? [];
  const chosenProject = projectList.find((p) => p.id === projectId);

  return (
    <section className="create-task">
      <div className="page-head">
        <h1>{existingId !== null ? "Add data to a task" : "Create a new task"}</h1>
        <Link to="/tasks">Back to tasks</Link>
      </div>
      {existingId !== null ? (
        existing.loading ? (
          <Loading what="Loading the task" />
        ) : existing.error ? (
          <ErrorBanner error={existing.error} onRetry={existing.reload} />
        ) : existing.data ? (
          <p>
            Data for task <Link to={`/tasks/${existing.data.id}`}>#{existing.data.id} {existing.data.name}</Link>
            {existing.data.size ? <strong> — this task has data already; the server will refuse more.</strong> : null}
          </p>
        ) : null
      ) : null}
      <form className="create-form" onSubmit={submit} aria-label="Create a task">
        {existingId === null ? (
          <fieldset className="card" disabled={busy || createdId !== null}>
            <legend>Basic configuration</legend>
            <div className="create-fields">
              <label>
                Name
                <input required value={name} onChange={(e) => setName(e.currentTarget.value)} autoComplete="off" />
              </label>
              <label>
                Project
                <select
                  value={projectId ?? ""}
                  onChange={(e) => {
                    const value = idParam(e.currentTarget.value);
                    setProjectId(value);
                    setParam("project_id", value === null ? null : String(value));
                  }}
                >
                  <option value="">No project</option>
                  {projectId !== null && !chosenProject ? <option value={projectId}>Project #{projectId}</option> : null}
                  {projectList.map((p) => (
                    <option key={p.id} value={p.id}>
                      {p.name}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                Subset
                <input value={subset} list="create-subsets" placeholder="e.g. train" onChange={(e) => setSubset(e.currentTarget.value)} />
                <datalist id="create-subsets">
                  <option value="Train" />
                  <option value="Test" />
                  <option value="Validation" />
                </datalist>
              </label>
            </div>
            {projects.error ? <ErrorBanner error={projects.error} onRetry={projects.reload} /> : null}
            {projectId === null ? (
              <div className="create-labels">
                <LabelsEditor value={labels} onChange={setLabels} disabled={busy || createdId !== null} />
              </div>
            ) : (
              <p className="muted">The task takes the labels of the project{chosenProject ? ` “${chosenProject.name}”` : ""}.</p>
            )}
          </fieldset>
        ) : null}

        <fieldset className="card">
          <legend>Select files</legend>
          <div role="tablist" aria-label="Data source" className="create-tabs">
            {SOURCES.map((s) => (
              <button
                key={s.key}
                type="button"
                role="tab"
                id={`source-tab-${s.key}`}
                aria-controls={`source-panel-${s.key}`}
                aria-selected={source === s.key}
                className={source === s.key ? "active" : undefined}
                disabled={busy}
                onClick={() => setParam("source", s.key === "local" ? null : s.key)}
              >
                {s.label}
              </button>
            ))}
          </div>
          <div role="tabpanel" id={`source-panel-${source}`} aria-labelledby={`source-tab-${source}`} className="create-panel">
            {source === "local" ? <LocalFiles items={items} onChange={setItems} disabled={busy} /> : null}
            {source === "share" ? <ShareBrowser directory={shareDir} onDirectory={setShareDir} selected={sharePaths} onChange={setSharePaths} disabled={busy} /> : null}
            {source === "remote" ? (
              <label>
                Remote URLs (one per line)
                <textarea rows={5} disabled={busy} value={urls} placeholder="https://example.com/video.mp4" onChange={(e) => setUrls(e.currentTarget.value)} />
                <span className="muted hint">Downloaded by the server; private and loopback addresses are refused.</span>
              </label>
            ) : null}
          </div>
        </fieldset>

        <AdvancedFields value={options} onChange={setOptions} disabled={busy} taskFields={taskId === null} />

        <ErrorBanner error={error} />
        {createdId !== null && phase === "idle" ? (
          <p className="muted" role="status">
            Task <Link to={`/tasks/${createdId}`}>#{createdId}</Link> was created without data; submit again to send the data to it, or cancel to delete it.
          </p>
        ) : null}

        {phase !== "idle" ? (
          <div className="card create-status" aria-live="polite">
            {phase === "creating" ? <p role="status">Creating the task…</p> : null}
            {(phase === "uploading" || phase === "paused") && !progress ? <p role="status">Preparing the upload…</p> : null}
            {(phase === "uploading" || phase === "paused" || phase === "finishing") && progress ? <UploadProgress files={uploadFiles} progress={progress} /> : null}
            {phase === "paused" ? <p role="status">The upload is paused.</p> : null}
            {phase === "finishing" ? <p role="status">Starting the processing…</p> : null}
            {phase === "processing" ? (
              <div role="status">
                <p>
                  Processing the data: {request?.status ?? "queued"}
                  {request?.message ? ` — ${request.message}` : ""}
                </p>
                <Bar label="Processing progress" fraction={request?.progress ?? 0} />
              </div>
            ) : null}
          </div>
        ) : null}

        <div className="actions">
          {phase === "uploading" ? (
            <button type="button" onClick={pause}>
              Pause
            </button>
          ) : null}
          {phase === "paused" ? (
            <button type="button" className="primary" onClick={resume}>
              Resume
            </button>
          ) : null}
          {(busy && phase !== "processing") || (createdId !== null && phase === "idle") ? (
            <button type="button" className="danger" onClick={() => setConfirmCancel(true)}>
              Cancel
            </button>
          ) : null}
          <button type="submit" className="primary" disabled={busy}>
            {taskId === null ? "Submit & Open" : "Send data"}
          </button>
        </div>
      </form>
      {confirmCancel ? (
        <ConfirmDialog
          title="Cancel the upload?"
          message={
            createdId !== null
              ? `The files sent so far are dropped, and task #${createdId}, created for them, is deleted.`
              : "The files sent so far are dropped."
          }
          confirm="Cancel the upload"
          onConfirm={cancel}
          onClose={() => setConfirmCancel(false)}
        />
      ) : null}
    </section>
  );
}
