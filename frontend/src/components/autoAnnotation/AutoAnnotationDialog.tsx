// "Automatic annotation" of a task, as CVAT's: a detector, the mapping of its labels to the task's
// (same names pre-mapped; any model label can be mapped to another task label or left out), a
// threshold, "Clean old annotations" and "Convert masks to polygons". Annotate starts the request
// with that explicit mapping; the task page follows it. The server's refusals (another request
// runs: 409; a mapping it does not take: 400) are shown here. Loaded on demand (TaskPage).
import { useState, type FormEvent } from "react";
import { api, ApiError } from "../../api/client";
import { listFunctions, startFunctionCall } from "../../api/lambda";
import type { FunctionCall, FunctionLabelSpec, Label, Paginated } from "../../api/types";
import {
  choiceProblem,
  defaultMapping,
  detectors,
  removeMapping,
  requestBody,
  setMapping,
  targetsFor,
  topLabels,
  unmappedLabels,
  type MappingRow,
} from "../../lib/autoAnnotation";
import { Dialog, ErrorBanner, Loading, useLoad } from "../ui";
import "./autoAnnotation.css";

export interface AutoAnnotationDialogProps {
  task: { id: number; name: string };
  onClose(): void;
  onStarted(call: FunctionCall): void;
  onConflict?(): void; // the server says a request of the task runs: the page looks for it
}

export default function AutoAnnotationDialog({ task, onClose, onStarted, onConflict }: AutoAnnotationDialogProps) {
  const functions = useLoad(listFunctions, []);
  const labels = useLoad(() => api.get<Paginated<Label>>("/api/labels", { task_id: task.id, page_size: 500 }), [task.id]);
  const models = functions.data ? detectors(functions.data) : [];
  const taskLabels = labels.data ? topLabels(labels.data.results) : [];
  const [picked, setPicked] = useState("");
  const chosen = models.find((f) => f.id === picked) ?? models[0];
  const modelLabels = chosen?.labels_v2 ?? [];
  // the rows the user edited for a model; until then, the model's default mapping
  const [edited, setEdited] = useState<{ functionId: string; rows: MappingRow[] } | null>(null);
  const rows = chosen && edited?.functionId === chosen.id ? edited.rows : defaultMapping(modelLabels, taskLabels);
  const [threshold, setThreshold] = useState("0.5");
  const [cleanup, setCleanup] = useState(false);
  const [convMasks, setConvMasks] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const edit = (next: MappingRow[]) => chosen && setEdited({ functionId: chosen.id, rows: next });
  const choice = {
    functionId: chosen?.id ?? "",
    taskId: task.id,
    threshold: threshold.trim() === "" ? Number.NaN : Number(threshold),
    cleanup,
    convMaskToPoly: convMasks,
    mapping: rows,
  };
  const loaded = functions.data !== undefined && labels.data !== undefined;
  const problem = loaded ? choiceProblem(choice) : null;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!loaded || problem) return;
    setBusy(true);
    setError(null);
    try {
      const started = await startFunctionCall(requestBody(choice));
      onStarted(started);
      onClose();
    } catch (e) {
      setError(e);
      setBusy(false);
      if (e instanceof ApiError && e.status === 409) onConflict?.();
    }
  }

  return (
    <Dialog title={`Automatic annotation of task "${task.name}"`} onClose={onClose}>
      <form className="auto-annotation-form" onSubmit={submit}>
        <ErrorBanner error={functions.error} onRetry={functions.reload} />
        <ErrorBanner error={labels.error} onRetry={labels.reload} />
        {!loaded && !functions.error && !labels.error ? <Loading what="Loading the models" /> : null}
        {functions.data && models.length === 0 ? (
          <p className="hint">No detector is registered: an administrator adds one with cvat-serverless function add.</p>
        ) : null}
        {loaded && chosen ? (
          <>
            <label>
              Model
              <select
                aria-label="Model"
                value={chosen.id}
                onChange={(e) => {
                  setPicked(e.target.value);
                  setError(null);
                }}
                disabled={busy}
              >
                {models.map((f) => (
                  <option key={f.id} value={f.id}>
                    {f.name}
                  </option>
                ))}
              </select>
            </label>
            <ul className="auto-annotation-models" aria-label="Detectors">
              {models.map((f) => (
                <li key={f.id} className={f.id === chosen.id ? "chosen" : undefined}>
                  <strong>{f.name}</strong> <span className="muted">({f.id})</span>
                  {f.description ? <div className="hint">{f.description}</div> : null}
                </li>
              ))}
            </ul>
            <MappingTable modelLabels={modelLabels} taskLabels={taskLabels} rows={rows} onChange={edit} disabled={busy} />
            <div className="auto-annotation-options">
              <label>
                Threshold
                <input type="number" min={0} max={1} step={0.05} value={threshold} onChange={(e) => setThreshold(e.target.value)} disabled={busy} required />
              </label>
              <label className="check">
                <input type="checkbox" checked={cleanup} onChange={(e) => setCleanup(e.target.checked)} disabled={busy} />
                Clean old annotations
              </label>
              <label className="check">
                <input type="checkbox" checked={convMasks} onChange={(e) => setConvMasks(e.target.checked)} disabled={busy} />
                Convert masks to polygons
              </label>
            </div>
            {problem ? <p className="hint">{problem}</p> : null}
          </>
        ) : null}
        <ErrorBanner error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || !loaded || !chosen || problem !== null}>
            {busy ? "Starting…" : "Annotate"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function MappingTable({ modelLabels, taskLabels, rows, onChange, disabled }: { modelLabels: FunctionLabelSpec[]; taskLabels: Label[]; rows: MappingRow[]; onChange(rows: MappingRow[]): void; disabled: boolean }) {
  const byName = new Map(modelLabels.map((m) => [m.name, m]));
  const left = unmappedLabels(modelLabels, rows);
  const [adding, setAdding] = useState("");
  const addModel = byName.get(adding) && left.some((m) => m.name === adding) ? adding : "";
  const addTargets = addModel ? targetsFor(byName.get(addModel)!, taskLabels) : [];
  const [addTask, setAddTask] = useState("");
  const addTarget = addTargets.some((l) => l.name === addTask) ? addTask : (addTargets[0]?.name ?? "");

  return (
    <fieldset className="auto-annotation-mapping" disabled={disabled}>
      <legend>Labels</legend>
      {rows.length ? (
        <table className="grid" aria-label="Label mapping">
          <thead>
            <tr>
              <th scope="col">Model label</th>
              <th scope="col">Task label</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const model = byName.get(row.model);
              const targets = model ? targetsFor(model, taskLabels) : [];
              return (
                <tr key={row.model}>
                  <td>
                    {row.model}
                    {model?.type && model.type !== "unknown" ? <span className="muted"> · {model.type}</span> : null}
                  </td>
                  <td>
                    <select aria-label={`Task label for ${row.model}`} value={row.task} onChange={(e) => onChange(setMapping(rows, row.model, e.target.value))}>
                      {targets.some((l) => l.name === row.task) ? null : <option value="">Choose a label</option>}
                      {targets.map((l) => (
                        <option key={l.id ?? l.name} value={l.name}>
                          {l.name}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <button type="button" className="link-button" aria-label={`Leave out ${row.model}`} onClick={() => onChange(removeMapping(rows, row.model))}>
                      Leave out
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p className="hint">No label of the model has a task label of the same name: add a mapping.</p>
      )}
      <p className="hint">Model labels not listed here are left out: the model's shapes of them are dropped.</p>
      {left.length ? (
        <div className="auto-annotation-add" role="group" aria-label="Add a mapping">
          <label>
            Model label
            <select aria-label="Model label to map" value={addModel} onChange={(e) => setAdding(e.target.value)}>
              <option value="">Choose…</option>
              {left.map((m) => (
                <option key={m.name} value={m.name}>
                  {m.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Task label
            <select aria-label="Task label to map it to" value={addTarget} onChange={(e) => setAddTask(e.target.value)} disabled={!addModel || addTargets.length === 0}>
              {addTargets.length === 0 ? <option value="">{addModel ? "No task label fits" : "—"}</option> : null}
              {addTargets.map((l) => (
                <option key={l.id ?? l.name} value={l.name}>
                  {l.name}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            disabled={!addModel || !addTarget}
            onClick={() => {
              onChange(setMapping(rows, addModel, addTarget));
              setAdding("");
              setAddTask("");
            }}
          >
            Add mapping
          </button>
        </div>
      ) : null}
    </fieldset>
  );
}
