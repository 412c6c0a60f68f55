// The jobs list (/jobs), as CVAT's jobs page: search, filters (stage, state, assignee, task,
// project, type, dimension, id, updated date), sort and pages in the URL; rows link to the job.
import { Link } from "react-router";
import { api } from "../../api/client";
import type { Job, Paginated } from "../../api/types";
import { listParams, ListControls, useListQuery } from "../../components/ListControls";
import { Empty, ErrorBanner, formatDate, Loading, Pager, useLoad } from "../../components/ui";
import type { FieldSpec } from "../../lib/filter";
import { frameRange, JOB_STAGES, JOB_STATES, userName } from "../../lib/frames";
import "../tasks/tasks.css";

type JobRead = Job & { task_name?: string | null; project_name?: string | null; dimension?: string };

const FIELDS: FieldSpec[] = [
  { name: "task_id", label: "Task ID", kind: "number" },
  { name: "stage", label: "Stage", kind: "choice", choices: [...JOB_STAGES] },
  { name: "state", label: "State", kind: "choice", choices: [...JOB_STATES] },
  { name: "assignee", label: "Assignee", kind: "text" },
  { name: "project_id", label: "Project ID", kind: "number" },
  { name: "type", label: "Type", kind: "choice", choices: ["annotation", "ground_truth", "consensus_replica"] },
  { name: "dimension", label: "Dimension", kind: "choice", choices: ["2d", "3d"] },
  { name: "id", label: "ID", kind: "number" },
  { name: "updated_date", label: "Updated", kind: "date" },
];

const SORTS: [string, string][] = [
  ["-id", "Newest"],
  ["id", "Oldest"],
  ["-updated_date", "Recently updated"],
  ["task_id", "Task"],
  ["stage", "Stage"],
  ["state", "State"],
  ["assignee", "Assignee"],
];

export default function JobsPage() {
  const [query, setQuery] = useListQuery();
  const jobs = useLoad(() => api.get<Paginated<JobRead>>("/api/jobs", listParams(query)), [query.page, query.search, query.sort, query.filter]);
  const filtered = Boolean(query.search || query.filter);
  return (
    <section aria-labelledby="jobs-title">
      <div className="page-head">
        <h1 id="jobs-title">Jobs</h1>
      </div>
      <ListControls query={query} onChange={setQuery} fields={FIELDS} sorts={SORTS} />
      <ErrorBanner error={jobs.error} onRetry={jobs.reload} />
      {jobs.loading && !jobs.data ? <Loading what="Loading jobs" /> : null}
      {jobs.data && jobs.data.count === 0 ? (
        <Empty>
          {filtered ? (
            "No jobs match the search or filter."
          ) : (
            <>
              No jobs yet: jobs appear when a task gets its data. <Link to="/tasks">Go to the tasks</Link>.
            </>
          )}
        </Empty>
      ) : null}
      {jobs.data && jobs.data.count > 0 ? (
        <>
          <table className="grid" aria-labelledby="jobs-title">
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Task</th>
                <th scope="col">Project</th>
                <th scope="col">Frames</th>
                <th scope="col">Stage</th>
                <th scope="col">State</th>
                <th scope="col">Assignee</th>
                <th scope="col">Type</th>
                <th scope="col">Dimension</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {jobs.data.results.map((job) => (
                <tr key={job.id}>
                  <td>
                    <Link to={`/tasks/${job.task_id}/jobs/${job.id}`}>Job #{job.id}</Link>
                  </td>
                  <td>
                    <Link to={`/tasks/${job.task_id}`}>{job.task_name ? `${job.task_name} (#${job.task_id})` : `Task #${job.task_id}`}</Link>
                  </td>
                  <td>{job.project_id !== null ? <Link to={`/projects/${job.project_id}`}>{job.project_name || `#${job.project_id}`}</Link> : <span className="muted">—</span>}</td>
                  <td>
                    {frameRange(job.start_frame, job.stop_frame)} <span className="muted">({job.frame_count})</span>
                  </td>
                  <td>{job.stage}</td>
                  <td>{job.state}</td>
                  <td>{userName(job.assignee) || <span className="muted">—</span>}</td>
                  <td>{job.type}</td>
                  <td>{job.dimension ?? ""}</td>
                  <td>{formatDate(job.updated_date)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={query.page} pageSize={query.pageSize} count={jobs.data.count} onPage={(page) => setQuery({ page })} />
        </>
      ) : null}
    </section>
  );
}
