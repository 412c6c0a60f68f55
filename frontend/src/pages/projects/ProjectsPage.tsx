import { Link } from "react-router";
import { api } from "../../api/client";
import type { Paginated, Project } from "../../api/types";
import { listParams, ListControls, useListQuery } from "../../components/ListControls";
import { Empty, ErrorBanner, formatDate, Loading, Pager, useLoad } from "../../components/ui";
import type { FieldSpec } from "../../lib/filter";

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
  const projects = useLoad(() => api.get<Paginated<Project>>("/api/projects", listParams(query)), [query.page, query.search, query.sort, query.filter]);
  return (
    <section aria-labelledby="projects-title">
      <div className="page-head">
        <h1 id="projects-title">Projects</h1>
        <Link className="button primary" to="/projects?create=1">
          Create a project
        </Link>
      </div>
      <ListControls query={query} onChange={setQuery} fields={FIELDS} sorts={SORTS} />
      <ErrorBanner error={projects.error} onRetry={projects.reload} />
      {projects.loading && !projects.data ? <Loading what="Loading projects" /> : null}
      {projects.data && projects.data.count === 0 ? <Empty>No projects yet.</Empty> : null}
      {projects.data && projects.data.count > 0 ? (
        <>
          <ul className="cards">
            {projects.data.results.map((p) => (
              <li key={p.id} className="card">
                <Link to={`/projects/${p.id}`}>
                  <strong>{p.name}</strong>
                </Link>
                <span>
                  #{p.id} · {p.tasks.count} task{p.tasks.count === 1 ? "" : "s"} · {p.owner?.username ?? "no owner"} · updated {formatDate(p.updated_date)}
                </span>
              </li>
            ))}
          </ul>
          <Pager page={query.page} pageSize={query.pageSize} count={projects.data.count} onPage={(page) => setQuery({ page })} />
        </>
      ) : null}
    </section>
  );
}
