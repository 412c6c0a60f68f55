// The tasks list (/tasks, the app's home), as CVAT's: search, filters, sort and pages in the URL;
// each card shows the task's preview, project, owner, status, jobs progress, size and dates.
import { Link } from "react-router";
import { api } from "../../api/client";
import type { Paginated, Task } from "../../api/types";
import { listParams, ListControls, useListQuery } from "../../components/ListControls";
import { RestoreBackupButton } from "../../components/dataset/RestoreBackup";
import { Empty, ErrorBanner, formatDate, Loading, Pager, useLoad } from "../../components/ui";
import type { FieldSpec } from "../../lib/filter";
import { jobsProgress, userName } from "../../lib/frames";
import { Preview } from "./Preview";
import "./tasks.css";

const FIELDS: FieldSpec[] = [
  { name: "name", label: "Name", kind: "text" },
  { name: "owner", label: "Owner", kind: "text" },
  { name: "assignee", label: "Assignee", kind: "text" },
  { name: "status", label: "Status", kind: "choice", choices: ["annotation", "validation", "completed"] },
  { name: "mode", label: "Mode", kind: "choice", choices: ["annotation", "interpolation"] },
  { name: "dimension", label: "Dimension", kind: "choice", choices: ["2d", "3d"] },
  { name: "project_id", label: "Project ID", kind: "number" },
  { name: "id", label: "ID", kind: "number" },
  { name: "subset", label: "Subset", kind: "text" },
  { name: "updated_date", label: "Updated", kind: "date" },
];

const SORTS: [string, string][] = [
  ["-id", "Newest"],
  ["id", "Oldest"],
  ["name", "Name"],
  ["-updated_date", "Recently updated"],
  ["status", "Status"],
  ["project_id", "Project"],
];

export default function TasksPage() {
  const [query, setQuery] = useListQuery();
  const tasks = useLoad(() => api.get<Paginated<Task>>("/api/tasks", listParams(query)), [query.page, query.search, query.sort, query.filter]);
  const filtered = Boolean(query.search || query.filter);
  return (
    <section aria-labelledby="tasks-title">
      <div className="page-head">
        <h1 id="tasks-title">Tasks</h1>
        <RestoreBackupButton resource="task" />
        <Link className="button primary" to="/tasks/create">
          Create a task
        </Link>
      </div>
      <ListControls query={query} onChange={setQuery} fields={FIELDS} sorts={SORTS} />
      <ErrorBanner error={tasks.error} onRetry={tasks.reload} />
      {tasks.loading && !tasks.data ? <Loading what="Loading tasks" /> : null}
      {tasks.data && tasks.data.count === 0 ? (
        <Empty>
          {filtered ? (
            <>No tasks match the search or filter.</>
          ) : (
            <>
              No tasks yet. <Link to="/tasks/create">Create a task</Link> to start annotating.
            </>
          )}
        </Empty>
      ) : null}
      {tasks.data && tasks.data.count > 0 ? (
        <>
          <ul className="cards task-cards" aria-label="Tasks">
            {tasks.data.results.map((t) => (
              <TaskCard key={t.id} task={t} />
            ))}
          </ul>
          <Pager page={query.page} pageSize={query.pageSize} count={tasks.data.count} onPage={(page) => setQuery({ page })} />
        </>
      ) : null}
    </section>
  );
}

function TaskCard({ task }: { task: Task }) {
  const progress = jobsProgress(task.jobs);
  return (
    <li className="card task-card">
      <Preview path={`/api/tasks/${task.id}/preview`} alt={`Preview of task ${task.name}`} />
      <div className="task-main">
        <Link to={`/tasks/${task.id}`}>
          <strong>{task.name}</strong>
        </Link>
        <span>
          #{task.id}
          {task.project_id !== null ? (
            <>
              {" · "}
              <Link to={`/projects/${task.project_id}`}>Project #{task.project_id}</Link>
            </>
          ) : null}
          {" · "}
          {task.owner ? `owner ${userName(task.owner)}` : "no owner"}
          {task.assignee ? ` · assigned to ${userName(task.assignee)}` : ""}
        </span>
        <span>
          {task.size} frame{task.size === 1 ? "" : "s"} · {task.mode || "no data"} · {task.dimension}
          {task.subset ? ` · subset ${task.subset}` : ""}
        </span>
        <span>
          created {formatDate(task.created_date)} · updated {formatDate(task.updated_date)}
        </span>
      </div>
      <div className="task-side">
        <span className="badge">{task.status}</span>
        <div className="progress" role="progressbar" aria-label={`Jobs of task ${task.name} completed`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={progress.percent}>
          <div style={{ width: `${progress.percent}%` }} />
        </div>
        <span>{progress.text}</span>
      </div>
    </li>
  );
}
