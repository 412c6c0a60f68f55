// One project: its details (name, assignee and bug tracker editable), its labels (edited with
// the labels editor, saved as CVAT's PATCH of `labels`), its tasks, dataset actions and delete.
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api } from "../../api/client";
import type { Label, Paginated, Project, Task } from "../../api/types";
import { DatasetActions } from "../../components/dataset/DatasetActions";
import { UserPicker } from "../../components/UserPicker";
import { LabelsEditor } from "../../components/labels/LabelsEditor";
import { ConfirmDialog, Empty, ErrorBanner, formatDate, Loading, Pager, safeHref, useLoad } from "../../components/ui";
import { cleanLabel, labelsPatch, validateLabels } from "../../lib/labels";
import "./projects.css";

const TASKS_PAGE_SIZE = 10;

/** Every label of a project (the API pages them). */
async function allLabels(projectId: number): Promise<Label[]> {
  const labels: Label[] = [];
  for (let page = 1; ; page++) {
    const batch = await api.get<Paginated<Label>>("/api/labels", { project_id: projectId, page, page_size: 100 });
    labels.push(...batch.results);
    if (!batch.next || batch.results.length === 0) return labels;
  }
}

export default function ProjectPage() {
  const id = Number(useParams().id);
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const tasksPage = Math.max(1, Number(params.get("tasks_page") ?? "1") || 1);
  const project = useLoad(() => api.get<Project>(`/api/projects/${id}`), [id]);
  const labels = useLoad(() => allLabels(id), [id]);
  const tasks = useLoad(() => api.get<Paginated<Task>>("/api/tasks", { project_id: id, page: tasksPage, page_size: TASKS_PAGE_SIZE, sort: "-id" }), [id, tasksPage]);
  const [deleting, setDeleting] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);

  if (!Number.isInteger(id) || id <= 0) return <ErrorBanner error={new Error("There is no project at this address.")} />;
  // an earlier project's answer is not this one's (Back from project to project keeps this page)
  const current = project.data?.id === id ? project.data : undefined;
  if (project.loading && !current) return <Loading what="Loading the project" />;
  if (!current) return <ErrorBanner error={project.error} onRetry={project.reload} />;
  const p = current;

  async function update(body: Record<string, unknown>) {
    setSaveError(null);
    try {
      await api.patch<Project>(`/api/projects/${id}`, body);
      project.reload();
    } catch (e) {
      setSaveError(e);
      throw e;
    }
  }

  const reloadAll = () => {
    project.reload();
    labels.reload();
    tasks.reload();
  };

  return (
    <section aria-labelledby="project-title" className="project-page">
      <p className="muted">
        <Link to="/projects">Projects</Link> / #{p.id}
      </p>
      <div className="page-head">
        <EditableName name={p.name} onSave={(name) => update({ name })} />
        <div className="actions project-actions">
          <DatasetActions resource="project" id={id} name={p.name} onChanged={reloadAll} />
          <button type="button" className="danger" onClick={() => setDeleting(true)}>
            Delete project
          </button>
        </div>
      </div>
      <ErrorBanner error={project.error} onRetry={project.reload} />
      <ErrorBanner error={saveError} />
      <dl className="project-details card">
        <div>
          <dt>Owner</dt>
          <dd>{p.owner?.username ?? "—"}</dd>
        </div>
        <div>
          <dt>Assignee</dt>
          <dd>
            <UserPicker label="Project assignee" value={p.assignee} onChange={(user) => update({ assignee_id: user ? user.id : null })} />
          </dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>{p.status}</dd>
        </div>
        <div>
          <dt>Bug tracker</dt>
          <dd>
            <BugTracker value={p.bug_tracker} onSave={(bug_tracker) => update({ bug_tracker })} />
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{formatDate(p.created_date)}</dd>
        </div>
        <div>
          <dt>Updated</dt>
          <dd>{formatDate(p.updated_date)}</dd>
        </div>
        {p.dimension ? (
          <div>
            <dt>Dimension</dt>
            <dd>{p.dimension}</dd>
          </div>
        ) : null}
      </dl>

      <ProjectLabels
        labels={labels.data}
        error={labels.error}
        loading={labels.loading}
        onReload={labels.reload}
        onSave={async (edited) => {
          const patch = labelsPatch(labels.data ?? [], edited);
          if (patch.length) await api.patch<Project>(`/api/projects/${id}`, { labels: patch });
          labels.reload();
          project.reload();
        }}
      />

      <section aria-labelledby="project-tasks" className="project-section">
        <div className="page-head">
          <h2 id="project-tasks">Tasks</h2>
          <Link className="button primary" to={`/tasks/create?project_id=${id}`}>
            Create a task
          </Link>
        </div>
        <ErrorBanner error={tasks.error} onRetry={tasks.reload} />
        {tasks.loading && !tasks.data ? <Loading what="Loading tasks" /> : null}
        {tasks.data && tasks.data.count === 0 ? <Empty>This project has no tasks yet.</Empty> : null}
        {tasks.data && tasks.data.count > 0 ? (
          <>
            <table className="grid">
              <thead>
                <tr>
                  <th scope="col">ID</th>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col">Frames</th>
                  <th scope="col">Jobs</th>
                  <th scope="col">Assignee</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {tasks.data.results.map((t) => (
                  <tr key={t.id}>
                    <td>#{t.id}</td>
                    <td>
                      <Link to={`/tasks/${t.id}`}>{t.name}</Link>
                      {t.subset ? <span className="muted"> ({t.subset})</span> : null}
                    </td>
                    <td>{t.status}</td>
                    <td>{t.size}</td>
                    <td>
                      {t.jobs.completed ?? 0} / {t.jobs.count} done
                    </td>
                    <td>{t.assignee?.username ?? "—"}</td>
                    <td>{formatDate(t.updated_date)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager
              page={tasksPage}
              pageSize={TASKS_PAGE_SIZE}
              count={tasks.data.count}
              onPage={(page) => {
                const next = new URLSearchParams(params);
                if (page > 1) next.set("tasks_page", String(page));
                else next.delete("tasks_page");
                setParams(next);
              }}
            />
          </>
        ) : null}
      </section>

      {deleting ? (
        <ConfirmDialog
          title="Delete the project"
          message={
            <>
              Delete project <strong>{p.name}</strong> with its {p.tasks.count} task{p.tasks.count === 1 ? "" : "s"} and all their annotations? This cannot be undone.
            </>
          }
          onConfirm={async () => {
            await api.delete(`/api/projects/${id}`);
            navigate("/projects", { replace: true });
          }}
          onClose={() => setDeleting(false)}
        />
      ) : null}
    </section>
  );
}

function EditableName({ name, onSave }: { name: string; onSave(name: string): Promise<void> }) {
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(name);
  const [busy, setBusy] = useState(false);
  if (!editing) {
    return (
      <div className="editable-name">
        <h1 id="project-title">{name}</h1>
        <button
          type="button"
          aria-label="Rename the project"
          onClick={() => {
            setValue(name);
            setEditing(true);
          }}
        >
          Rename
        </button>
      </div>
    );
  }
  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    try {
      await onSave(value.trim());
      setEditing(false);
    } catch {
      // shown by the page's error banner
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="editable-name" onSubmit={submit}>
      <h1 id="project-title" className="sr-only">
        {name}
      </h1>
      <input aria-label="Project name" required maxLength={256} value={value} autoFocus onChange={(e) => setValue(e.target.value)} onKeyDown={(e) => e.key === "Escape" && setEditing(false)} />
      <button type="submit" className="primary" disabled={busy || !value.trim()}>
        Save name
      </button>
      <button type="button" onClick={() => setEditing(false)}>
        Cancel
      </button>
    </form>
  );
}

function BugTracker({ value, onSave }: { value: string; onSave(value: string): Promise<void> }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(value);
  if (!editing) {
    return (
      <span className="inline-edit">
        {value && safeHref(value) ? (
          <a href={safeHref(value)!} target="_blank" rel="noreferrer">
            {value}
          </a>
        ) : value ? (
          <span>{value}</span>
        ) : (
          <span className="muted">none</span>
        )}
        <button
          type="button"
          aria-label="Edit the bug tracker"
          onClick={() => {
            setText(value);
            setEditing(true);
          }}
        >
          Edit
        </button>
      </span>
    );
  }
  return (
    <form
      className="inline-edit"
      onSubmit={async (e) => {
        e.preventDefault();
        try {
          await onSave(text.trim());
          setEditing(false);
        } catch {
          // shown by the page's error banner
        }
      }}
    >
      <input aria-label="Bug tracker URL" type="url" maxLength={2000} value={text} autoFocus onChange={(e) => setText(e.target.value)} />
      <button type="submit">Save</button>
      <button type="button" onClick={() => setEditing(false)}>
        Cancel
      </button>
    </form>
  );
}

function ProjectLabels({ labels, error, loading, onReload, onSave }: { labels: Label[] | undefined; error: unknown; loading: boolean; onReload(): void; onSave(labels: Label[]): Promise<void> }) {
  const [draft, setDraft] = useState<Label[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);
  const problems = draft ? validateLabels(draft) : [];
  return (
    <section aria-labelledby="project-labels" className="project-section">
      <div className="page-head">
        <h2 id="project-labels">Labels{labels ? ` (${labels.length})` : ""}</h2>
        {draft === null && labels ? (
          <button
            type="button"
            onClick={() => {
              setSaveError(null);
              setDraft(labels.map(cleanLabel));
            }}
          >
            Edit labels
          </button>
        ) : null}
      </div>
      <ErrorBanner error={error} onRetry={onReload} />
      {loading && !labels ? <Loading what="Loading labels" /> : null}
      {draft !== null ? (
        <form
          className="card"
          onSubmit={async (e) => {
            e.preventDefault();
            if (problems.length) return;
            setBusy(true);
            setSaveError(null);
            try {
              await onSave(draft);
              setDraft(null);
            } catch (err) {
              setSaveError(err);
            } finally {
              setBusy(false);
            }
          }}
        >
          <LabelsEditor value={draft} onChange={setDraft} disabled={busy} />
          {problems.length ? (
            <p className="field-error" role="status">
              Fix before saving: {problems.join(" ")}
            </p>
          ) : null}
          <ErrorBanner error={saveError} />
          <div className="actions">
            <button type="button" onClick={() => setDraft(null)}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={busy || problems.length > 0}>
              {busy ? "Saving…" : "Save labels"}
            </button>
          </div>
        </form>
      ) : labels ? (
        labels.length === 0 ? (
          <Empty>This project has no labels yet.</Empty>
        ) : (
          <ul className="label-chips" aria-label="Labels">
            {labels.map((l) => (
              <li key={l.id} className="label-chip">
                <span className="swatch" style={{ background: l.color ?? "#ccc" }} aria-hidden="true" />
                <strong>{l.name}</strong>
                <span className="muted">
                  {l.type ?? "any"}
                  {l.type === "skeleton" ? ` · ${l.sublabels?.length ?? 0} points` : ""}
                  {l.attributes.length ? ` · ${l.attributes.map((a) => a.name).join(", ")}` : ""}
                </span>
              </li>
            ))}
          </ul>
        )
      ) : null}
    </section>
  );
}
