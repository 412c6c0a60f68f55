// One task (/tasks/:id): its details (name, bug tracker and subset editable, assignee picked
// from the users), its labels, its data (or a link to attach some), its jobs with their stage,
// state and assignee editable, dataset actions, automatic annotation and deletion.
import { lazy, Suspense, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api } from "../../api/client";
import type { BasicUser, Job, Label, Paginated, Task } from "../../api/types";
import { AutoAnnotationStatus, useTaskAutoAnnotation } from "../../components/autoAnnotation/AutoAnnotationStatus";
import { DatasetActions } from "../../components/dataset/DatasetActions";
import { ConfirmDialog, Empty, ErrorBanner, formatDate, Loading, Pager, safeHref, useLoad } from "../../components/ui";
import { UserPicker } from "../../components/UserPicker";
import { frameRange, jobsProgress, userName } from "../../lib/frames";
import { JobAssignee, StageSelect, StateSelect, useJobPatch } from "../jobs/jobControls";
import { Preview } from "./Preview";
import { Item } from "./Item";
import "./tasks.css";

type TaskRead = Task & { project_name?: string | null };

const JOBS_PAGE_SIZE = 10;
// the dialog (and its mapping editor) loads when it is first opened
const AutoAnnotationDialog = lazy(() => import("../../components/autoAnnotation/AutoAnnotationDialog"));

export default function TaskPage() {
  const raw = useParams().id ?? "";
  const id = Number(raw);
  const valid = Number.isInteger(id) && id > 0;
  const task = useLoad(() => (valid ? api.get<TaskRead>(`/api/tasks/${id}`) : Promise.reject(new Error(`"${raw}" is not a task id.`))), [id]);
  // an earlier task's answer is not this one's (Back from task to task keeps this page)
  const data = task.data?.id === id ? task.data : undefined;
  if (task.loading && !data) return <Loading what="Loading the task" />;
  if (!data)
    return (
      <section>
        <h1>Task #{id}</h1>
        <ErrorBanner error={task.error} onRetry={task.reload} />
        <Link to="/tasks">Back to the tasks</Link>
      </section>
    );
  return <TaskView key={data.id} task={data} error={task.error} reload={task.reload} />;
}

function TaskView({ task, error, reload }: { task: TaskRead; error: unknown; reload(): void }) {
  const navigate = useNavigate();
  const [deleting, setDeleting] = useState(false);
  const [annotating, setAnnotating] = useState(false);
  const autoAnnotation = useTaskAutoAnnotation(task.id, reload);
  const [patchError, setPatchError] = useState<unknown>(null);
  const hasData = task.data !== null && task.size > 0;
  const progress = jobsProgress(task.jobs);

  async function save(changes: Record<string, unknown>): Promise<void> {
    setPatchError(null);
    try {
      await api.patch<Task>(`/api/tasks/${task.id}`, changes);
      reload();
    } catch (e) {
      setPatchError(e);
      throw e;
    }
  }

  return (
    <section aria-labelledby="task-title" className="task-layout">
      <div className="page-head">
        <div>
          <p className="muted">
            <Link to="/tasks">Tasks</Link>
            {task.project_id !== null ? (
              <>
                {" / "}
                <Link to={`/projects/${task.project_id}`}>{task.project_name || `Project #${task.project_id}`}</Link>
              </>
            ) : null}
          </p>
          <h1 id="task-title">
            {task.name} <span className="muted">#{task.id}</span>
          </h1>
        </div>
        <div className="head-actions">
          <DatasetActions resource="task" id={task.id} name={task.name} onChanged={reload} />
          {hasData ? (
            <button
              type="button"
              onClick={() => setAnnotating(true)}
              disabled={autoAnnotation.running}
              title={autoAnnotation.running ? "An automatic annotation of this task is running" : undefined}
            >
              Automatic annotation
            </button>
          ) : null}
          <button type="button" className="danger" onClick={() => setDeleting(true)}>
            Delete task
          </button>
        </div>
      </div>
      <ErrorBanner error={error} onRetry={reload} />
      <ErrorBanner error={patchError} />
      <AutoAnnotationStatus state={autoAnnotation} />

      <div className="task-top">
        <div className="card">
          <h2>Details</h2>
          <EditForm key={`${task.name}\u0000${task.bug_tracker}\u0000${task.subset}`} task={task} save={save} />
          <dl className="details-grid">
            <Item term="Owner">{userName(task.owner) || <span className="muted">Nobody</span>}</Item>
            <Item term="Assignee">
              <UserPicker label="Task assignee" value={task.assignee} onChange={(user: BasicUser | null) => save({ assignee_id: user ? user.id : null }).catch(() => undefined)} />
            </Item>
            <Item term="Project">{task.project_id !== null ? <Link to={`/projects/${task.project_id}`}>{task.project_name || `#${task.project_id}`}</Link> : <span className="muted">None</span>}</Item>
            <Item term="Status">{task.status}</Item>
            <Item term="Mode">{task.mode || <span className="muted">no data</span>}</Item>
            <Item term="Dimension">{task.dimension}</Item>
            <Item term="Size">
              {task.size} frame{task.size === 1 ? "" : "s"}
            </Item>
            <Item term="Image quality">{task.image_quality}</Item>
            <Item term="Segment size">{task.segment_size}</Item>
            <Item term="Overlap">{task.overlap ?? <span className="muted">default</span>}</Item>
            <Item term="Jobs">{progress.text}</Item>
            <Item term="Bug tracker">{task.bug_tracker ? (safeHref(task.bug_tracker) ? <a href={safeHref(task.bug_tracker)!} target="_blank" rel="noreferrer">{task.bug_tracker}</a> : task.bug_tracker) : <span className="muted">None</span>}</Item>
            <Item term="Created">{formatDate(task.created_date)}</Item>
            <Item term="Updated">{formatDate(task.updated_date)}</Item>
          </dl>
        </div>
        <div className="card">
          <h2>Preview</h2>
          {hasData ? (
            <Preview path={`/api/tasks/${task.id}/preview`} alt={`Preview of task ${task.name}`} large />
          ) : (
            <div className="notice">
              <p>This task has no data yet.</p>
              <Link className="button primary" to={`/tasks/create?task_id=${task.id}`}>
                Add data to this task
              </Link>
            </div>
          )}
        </div>
      </div>

      <Labels task={task} />
      {hasData ? <JobsTable task={task} onJobChanged={reload} /> : null}

      {annotating ? (
        <Suspense fallback={null}>
          <AutoAnnotationDialog
            task={task}
            onClose={() => setAnnotating(false)}
            onStarted={autoAnnotation.follow}
            onConflict={autoAnnotation.discover}
          />
        </Suspense>
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete the task"
          message={
            <>
              Delete task <strong>{task.name}</strong> (#{task.id}) with its data, jobs and annotations? This cannot be undone.
            </>
          }
          onConfirm={async () => {
            await api.delete(`/api/tasks/${task.id}`);
            navigate("/tasks", { replace: true });
          }}
          onClose={() => setDeleting(false)}
        />
      ) : null}
    </section>
  );
}


function EditForm({ task, save }: { task: Task; save(changes: Record<string, unknown>): Promise<void> }) {
  const [name, setName] = useState(task.name);
  const [bugTracker, setBugTracker] = useState(task.bug_tracker);
  const [subset, setSubset] = useState(task.subset);
  const [busy, setBusy] = useState(false);
  const changes: Record<string, string> = {};
  if (name.trim() !== task.name) changes.name = name.trim();
  if (bugTracker.trim() !== task.bug_tracker) changes.bug_tracker = bugTracker.trim();
  if (subset.trim() !== task.subset) changes.subset = subset.trim();
  const dirty = Object.keys(changes).length > 0;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!dirty || !name.trim()) return;
    setBusy(true);
    try {
      await save(changes);
    } catch {
      // shown by the page's banner
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="edit-form" onSubmit={submit} aria-label="Edit the task">
      <label>
        Name
        <input value={name} required maxLength={256} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Bug tracker
        <input type="url" value={bugTracker} placeholder="https://…" onChange={(e) => setBugTracker(e.target.value)} />
      </label>
      <label>
        Subset
        <input value={subset} list="task-subsets" onChange={(e) => setSubset(e.target.value)} />
        <datalist id="task-subsets">
          <option value="Train" />
          <option value="Test" />
          <option value="Validation" />
        </datalist>
      </label>
      <button type="submit" className="primary" disabled={!dirty || !name.trim() || busy}>
        Save
      </button>
    </form>
  );
}

function Labels({ task }: { task: TaskRead }) {
  const labels = useLoad(() => api.get<Paginated<Label>>("/api/labels", { task_id: task.id, page_size: 500 }), [task.id]);
  return (
    <div className="card" aria-labelledby="labels-title">
      <h2 id="labels-title">Labels</h2>
      {task.project_id !== null ? (
        <p className="muted">
          This task is in <Link to={`/projects/${task.project_id}`}>{task.project_name || `project #${task.project_id}`}</Link>: the project's labels apply, and are edited there.
        </p>
      ) : null}
      <ErrorBanner error={labels.error} onRetry={labels.reload} />
      {labels.loading && !labels.data ? <Loading what="Loading labels" /> : null}
      {labels.data && labels.data.results.length === 0 ? <Empty>No labels.</Empty> : null}
      {labels.data && labels.data.results.length > 0 ? (
        <table className="grid">
          <thead>
            <tr>
              <th scope="col">Label</th>
              <th scope="col">Type</th>
              <th scope="col">Attributes</th>
              <th scope="col">Sublabels</th>
            </tr>
          </thead>
          <tbody>
            {labels.data.results.map((label) => (
              <tr key={label.id ?? label.name}>
                <td>
                  <span className="swatch" style={{ background: label.color || "transparent" }} aria-hidden="true" />
                  {label.name}
                  {label.color ? <span className="sr-only"> (color {label.color})</span> : null}
                </td>
                <td>{label.type ?? "any"}</td>
                <td>{label.attributes.length ? label.attributes.map((a) => a.name).join(", ") + ` (${label.attributes.length})` : <span className="muted">0</span>}</td>
                <td>{label.sublabels?.length ? label.sublabels.map((s) => s.name).join(", ") : <span className="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

function JobsTable({ task, onJobChanged }: { task: Task; onJobChanged(): void }) {
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get("jobs_page") ?? "1") || 1);
  const jobs = useLoad(() => api.get<Paginated<Job>>("/api/jobs", { task_id: task.id, page, page_size: JOBS_PAGE_SIZE, sort: "id" }), [task.id, page]);
  const setPage = (next: number) => {
    const out = new URLSearchParams(params);
    if (next > 1) out.set("jobs_page", String(next));
    else out.delete("jobs_page");
    setParams(out);
  };
  return (
    <div className="card">
      <div className="section-head">
        <h2 id="jobs-title">Jobs</h2>
        <Link to={`/jobs?filter=${encodeURIComponent(JSON.stringify({ and: [{ "==": [{ var: "task_id" }, task.id] }] }))}`}>All jobs of this task in the jobs list</Link>
      </div>
      <ErrorBanner error={jobs.error} onRetry={jobs.reload} />
      {jobs.loading && !jobs.data ? <Loading what="Loading jobs" /> : null}
      {jobs.data && jobs.data.count === 0 ? <Empty>This task has no jobs.</Empty> : null}
      {jobs.data && jobs.data.count > 0 ? (
        <>
          <table className="grid" aria-labelledby="jobs-title">
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Frames</th>
                <th scope="col">Frame count</th>
                <th scope="col">Type</th>
                <th scope="col">Stage</th>
                <th scope="col">State</th>
                <th scope="col">Assignee</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {jobs.data.results.map((job) => (
                <JobRow key={`${job.id}-${job.updated_date}`} initial={job} onChanged={onJobChanged} />
              ))}
            </tbody>
          </table>
          <Pager page={page} pageSize={JOBS_PAGE_SIZE} count={jobs.data.count} onPage={setPage} />
        </>
      ) : null}
    </div>
  );
}

function JobRow({ initial, onChanged }: { initial: Job; onChanged(): void }) {
  const [job, setJob] = useState(initial);
  const { patch, error, busy } = useJobPatch(job, (saved) => {
    setJob(saved);
    onChanged(); // the task's status and jobs progress follow its jobs
  });
  return (
    <>
      <tr>
        <td>
          <Link to={`/tasks/${job.task_id}/jobs/${job.id}`}>Job #{job.id}</Link>
        </td>
        <td>{frameRange(job.start_frame, job.stop_frame)}</td>
        <td>{job.frame_count}</td>
        <td>{job.type}</td>
        <td>
          <StageSelect job={job} busy={busy} patch={patch} />
        </td>
        <td>
          <StateSelect job={job} busy={busy} patch={patch} />
        </td>
        <td>
          <JobAssignee job={job} busy={busy} patch={patch} />
        </td>
        <td>{formatDate(job.updated_date)}</td>
      </tr>
      {error ? (
        <tr>
          <td colSpan={8}>
            <ErrorBanner error={error} />
          </td>
        </tr>
      ) : null}
    </>
  );
}
