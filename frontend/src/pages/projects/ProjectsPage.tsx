import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api } from "../../api/client";
import type { Label, Paginated, Project } from "../../api/types";
import { RestoreBackupButton } from "../../components/dataset/RestoreBackup";
import { LabelsEditor } from "../../components/labels/LabelsEditor";
import { listParams, ListControls, useListQuery } from "../../components/ListControls";
import { Dialog, Empty, ErrorBanner, formatDate, Loading, Pager, useLoad } from "../../components/ui";
import type { FieldSpec } from "../../lib/filter";
import { labelsPatch, validateLabels } from "../../lib/labels";
import "./projects.css";

const FIELDS: FieldSpec[] = [
  { name: "name", label: "Name", kind: "text" },
  { name: "owner", label: "Owner", kind: "text" },
  { name: "assignee", label: "Assignee", kind: "text" },
  { name: "status", label: "Status", kind: "choice", choices: ["annotation", "validation", "completed"] },
  { name: "id", label: "ID", kind: "number" },
  { name: "updated_date", label: "Updated", kind: "date" },
];

const SORTS: [string, string][] = [
  ["-id", "Newest"],
  ["id", "Oldest"],
  ["name", "Name"],
  ["-updated_date", "Recently updated"],
];

export default function ProjectsPage() {
  const [query, setQuery] = useListQuery();
  const [params, setParams] = useSearchParams();
  const creating = params.get("create") === "1";
  const closeCreate = () => {
    const next = new URLSearchParams(params);
    next.delete("create");
    setParams(next);
  };
  const projects = useLoad(() => api.get<Paginated<Project>>("/api/projects", listParams(query)), [query.page, query.search, query.sort, query.filter]);
  return (
    <section aria-labelledby="projects-title">
      <div className="page-head">
        <h1 id="projects-title">Projects</h1>
        <div className="inline-edit">
          <RestoreBackupButton resource="project" />
          <Link className="button primary" to={`/projects?${withCreate(params)}`}>
            Create a project
          </Link>
        </div>
      </div>
      <ListControls query={query} onChange={setQuery} fields={FIELDS} sorts={SORTS} />
      <ErrorBanner error={projects.error} onRetry={projects.reload} />
      {projects.loading && !projects.data ? <Loading what="Loading projects" /> : null}
      {projects.data && projects.data.count === 0 ? <Empty>No projects yet.</Empty> : null}
      {projects.data && projects.data.count > 0 ? (
        <>
          <ul className="cards">
            {projects.data.results.map((p) => (
              <li key={p.id} className="card project-card">
                <Preview id={p.id} />
                <div className="project-card-text">
                  <Link to={`/projects/${p.id}`}>
                    <strong>{p.name}</strong>
                  </Link>
                  <span>
                    #{p.id} · {p.tasks.count} task{p.tasks.count === 1 ? "" : "s"} · {p.owner?.username ?? "no owner"} · {p.status} · updated {formatDate(p.updated_date)}
                  </span>
                </div>
              </li>
            ))}
          </ul>
          <Pager page={query.page} pageSize={query.pageSize} count={projects.data.count} onPage={(page) => setQuery({ page })} />
        </>
      ) : null}
      {creating ? <CreateProjectDialog onClose={closeCreate} /> : null}
    </section>
  );
}

function withCreate(params: URLSearchParams): string {
  const next = new URLSearchParams(params);
  next.set("create", "1");
  return next.toString();
}

/** The project's preview (its first task's first frame) when it has one; nothing otherwise. */
function Preview({ id }: { id: number }) {
  const [failed, setFailed] = useState(false);
  if (failed) return <div className="project-preview project-preview-none" aria-hidden="true" />;
  return <img className="project-preview" src={api.url(`/api/projects/${id}/preview`)} alt="" loading="lazy" onError={() => setFailed(true)} />;
}

function CreateProjectDialog({ onClose }: { onClose(): void }) {
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [labels, setLabels] = useState<Label[]>([]);
  const [bugTracker, setBugTracker] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const problems = validateLabels(labels);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problems.length) {
      setError(new Error(`Fix the labels first: ${problems.join(" ")}`));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = { name: name.trim(), labels: labelsPatch([], labels) };
      if (bugTracker.trim()) body.bug_tracker = bugTracker.trim();
      const project = await api.post<Project>("/api/projects", body);
      navigate(`/projects/${project.id}`);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }

  return (
    <Dialog title="Create a project" onClose={onClose}>
      <form className="project-form" onSubmit={submit}>
        <label>
          Name
          <input required maxLength={256} value={name} onChange={(e) => setName(e.target.value)} autoFocus />
        </label>
        <fieldset>
          <legend>Labels</legend>
          <LabelsEditor value={labels} onChange={setLabels} disabled={busy} />
        </fieldset>
        <details>
          <summary>Advanced</summary>
          <label>
            Bug tracker URL
            <input type="url" value={bugTracker} maxLength={2000} placeholder="https://…" onChange={(e) => setBugTracker(e.target.value)} />
          </label>
        </details>
        <ErrorBanner error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || !name.trim()}>
            {busy ? "Creating…" : "Create"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
