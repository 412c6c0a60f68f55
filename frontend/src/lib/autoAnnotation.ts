// Automatic annotation (CVAT's lambda API): which functions can annotate a task, the label mapping
// the dialog starts from and edits, the body of `POST /api/lambda/requests`, and the words the
// task page shows for a request as it runs and ends.
import type { FunctionCall, FunctionCallRequest, FunctionLabelSpec, Label, LabelMappingEntry, LambdaFunction } from "../api/types";

/** The functions that annotate whole tasks (detectors), by name. */
export function detectors(functions: readonly LambdaFunction[]): LambdaFunction[] {
  return functions.filter((f) => f.kind === "detector").sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

const UNTYPED = new Set(["", "unknown", "any"]);

/** Whether a task label of `taskType` takes a model label's shapes (the server's rule: a label of
 *  type "any" takes everything, an untyped model label fits everything, masks and polygons fit each other). */
export function typesCompatible(modelType: string | undefined, taskType: string | undefined): boolean {
  const model = modelType ?? "";
  const task = taskType ?? "any";
  if (UNTYPED.has(model) || task === "any" || model === task) return true;
  const masks = new Set(["mask", "polygon"]);
  return masks.has(model) && masks.has(task);
}

/** One row of the mapping table: a model label and the task label it goes to. */
export interface MappingRow {
  model: string;
  task: string;
}

/** The task's top-level labels (sublabels of skeletons are not mapped here). */
export function topLabels(labels: readonly Label[]): Label[] {
  return labels.filter((l) => l.parent_id === null || l.parent_id === undefined);
}

/** The task labels a model label may go to. */
export function targetsFor(model: FunctionLabelSpec, taskLabels: readonly Label[]): Label[] {
  return topLabels(taskLabels).filter((l) => typesCompatible(model.type, l.type));
}

/** The mapping the dialog starts from: each model label with a task label of the same name (and a
 *  type that fits) goes to it, in the model's order. */
export function defaultMapping(modelLabels: readonly FunctionLabelSpec[], taskLabels: readonly Label[]): MappingRow[] {
  const rows: MappingRow[] = [];
  for (const model of modelLabels) {
    if (targetsFor(model, taskLabels).some((l) => l.name === model.name)) rows.push({ model: model.name, task: model.name });
  }
  return rows;
}

/** The model labels not mapped yet (for "Add a mapping"). */
export function unmappedLabels(modelLabels: readonly FunctionLabelSpec[], rows: readonly MappingRow[]): FunctionLabelSpec[] {
  const used = new Set(rows.map((r) => r.model));
  return modelLabels.filter((m) => !used.has(m.name));
}

/** The rows with `model` mapped to `task` (a new row at the end, or the model's row changed). */
export function setMapping(rows: readonly MappingRow[], model: string, task: string): MappingRow[] {
  if (rows.some((r) => r.model === model)) return rows.map((r) => (r.model === model ? { model, task } : r));
  return [...rows, { model, task }];
}

/** The rows without `model` (its shapes are dropped). */
export function removeMapping(rows: readonly MappingRow[], model: string): MappingRow[] {
  return rows.filter((r) => r.model !== model);
}

export interface AutoAnnotationChoice {
  functionId: string;
  taskId: number;
  jobId?: number;
  threshold: number;
  cleanup: boolean;
  convMaskToPoly: boolean;
  mapping: readonly MappingRow[];
}

/** Why the choice cannot be sent, or null. */
export function choiceProblem(choice: Pick<AutoAnnotationChoice, "functionId" | "threshold" | "mapping">): string | null {
  if (!choice.functionId) return "Choose a model.";
  if (!Number.isFinite(choice.threshold) || choice.threshold < 0 || choice.threshold > 1) return "The threshold is a number from 0 to 1.";
  if (choice.mapping.length === 0) return "Map at least one label of the model to a label of the task.";
  if (choice.mapping.some((r) => !r.task)) return "Choose a task label for every mapped model label.";
  return null;
}

/** The body of `POST /api/lambda/requests`, always with an explicit mapping: model labels left
 *  out of it are dropped by the server. */
export function requestBody(choice: AutoAnnotationChoice): FunctionCallRequest {
  const mapping: Record<string, LabelMappingEntry> = {};
  for (const row of choice.mapping) mapping[row.model] = { name: row.task };
  const body: FunctionCallRequest = {
    function: choice.functionId,
    task: choice.taskId,
    threshold: choice.threshold,
    cleanup: choice.cleanup,
    conv_mask_to_poly: choice.convMaskToPoly,
    mapping,
  };
  if (choice.jobId !== undefined) body.job = choice.jobId;
  return body;
}

export function callActive(call: Pick<FunctionCall, "status">): boolean {
  return call.status === "queued" || call.status === "started" || call.status === null;
}

/** The request of this task still running, if any (the newest one). */
export function runningCallOf(calls: readonly FunctionCall[], taskId: number): FunctionCall | null {
  const mine = calls.filter((c) => c.function.task === taskId && callActive(c));
  return mine.length ? mine[mine.length - 1]! : null;
}

export const CANCELED = "Canceled by the user.";

export function callCanceled(call: Pick<FunctionCall, "status" | "exc_info">): boolean {
  return call.status === "failed" && (call.exc_info ?? "").trim() === CANCELED;
}

/** 0..100 as a whole number (a finished request is 100). */
export function callPercent(call: Pick<FunctionCall, "status" | "progress">): number {
  if (call.status === "finished") return 100;
  const p = call.progress ?? 0;
  return Number.isFinite(p) ? Math.round(Math.min(100, Math.max(0, p))) : 0;
}

/** What the task page says about a request. */
export function callSummary(call: Pick<FunctionCall, "status" | "progress" | "exc_info">): string {
  switch (call.status) {
    case "finished":
      return "Automatic annotation finished.";
    case "failed":
      if (callCanceled(call)) return "Automatic annotation canceled.";
      return `Automatic annotation failed: ${call.exc_info?.trim() || "no reason given"}`;
    case "started":
      return `Automatic annotation in progress: ${callPercent(call)}%`;
    default:
      return "Automatic annotation queued…";
  }
}
