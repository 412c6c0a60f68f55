// Background requests (CVAT's `/api/requests/{rq_id}`): the polling loop the export, import and
// restore dialogs share, the words and numbers the UI shows for a request, and how a file is cut
// into the parts of a presigned direct upload.
import type { BackgroundRequest } from "../api/types";

export type RequestStatus = BackgroundRequest["status"];
export type RequestOperation = BackgroundRequest["operation"];

export function isEnded(status: RequestStatus): boolean {
  return status === "finished" || status === "failed";
}

export function isActive(status: RequestStatus): boolean {
  return status === "queued" || status === "started";
}

/** A request that ended as `failed`: its message is the server's (the importer's file and line...). */
export class RequestFailedError extends Error {
  constructor(readonly request: BackgroundRequest) {
    super(request.message || "The request failed.");
    this.name = "RequestFailedError";
  }
}

export class PollTimeoutError extends Error {
  constructor(
    readonly requestId: string,
    readonly waitedMs: number,
  ) {
    super(`The request ${requestId} did not end within ${Math.round(waitedMs / 1000)} s; see the Requests page.`);
    this.name = "PollTimeoutError";
  }
}

export interface PollOptions {
  interval?: number; // ms between two reads (default 1000)
  timeout?: number; // ms after which polling gives up (default 30 min)
  signal?: AbortSignal;
  onUpdate?(request: BackgroundRequest): void; // every read, e.g. to show the progress
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}

/** Resolves after `ms`, or rejects as soon as `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Reads the request until it ends: resolves with it when `finished`, rejects with
 * RequestFailedError when `failed`, PollTimeoutError after `timeout`, the abort reason on abort.
 * A read that fails (network, 5xx) rejects at once: the caller shows CVAT's message.
 */
export async function pollRequest(read: (id: string, signal?: AbortSignal) => Promise<BackgroundRequest>, id: string, options: PollOptions = {}): Promise<BackgroundRequest> {
  const interval = options.interval ?? 1000;
  const timeout = options.timeout ?? 30 * 60_000;
  const { signal } = options;
  const started = Date.now();
  for (;;) {
    if (signal?.aborted) throw abortError(signal);
    const request = await read(id, signal);
    if (signal?.aborted) throw abortError(signal);
    options.onUpdate?.(request);
    if (request.status === "finished") return request;
    if (request.status === "failed") throw new RequestFailedError(request);
    if (Date.now() - started + interval > timeout) throw new PollTimeoutError(id, Date.now() - started);
    await delay(interval, signal);
  }
}

/** The progress as a whole percentage 0..100 (a finished request is 100 whatever it reported). */
export function progressPercent(request: Pick<BackgroundRequest, "status" | "progress">): number {
  if (request.status === "finished") return 100;
  const p = request.progress ?? 0;
  if (!Number.isFinite(p)) return 0;
  return Math.round(Math.min(1, Math.max(0, p)) * 100);
}

const STATUS_LABELS: Record<RequestStatus, string> = {
  queued: "Queued",
  started: "In progress",
  finished: "Finished",
  failed: "Failed",
};

export function statusLabel(status: string): string {
  return STATUS_LABELS[status as RequestStatus] ?? status;
}

const ACTIONS: Record<string, string> = {
  "export:dataset": "Export dataset",
  "export:annotations": "Export annotations",
  "export:backup": "Export backup",
  "import:dataset": "Import dataset",
  "import:annotations": "Import annotations",
  "import:backup": "Restore backup",
  "create:task": "Create task",
  "merge:task": "Merge task",
  "merge:job": "Merge job",
  "autoannotate:task": "Auto-annotate task",
  "autoannotate:annotations": "Automatic annotation", // POST /api/lambda/requests
  autoannotate: "Automatic annotation", // the action alone (the Requests page's filter)
};

/** "Export dataset", "Restore backup"... for CVAT's operation types ("export:dataset"...). */
export function actionLabel(type: string): string {
  const known = ACTIONS[type];
  if (known) return known;
  const [action = type, subresource] = type.split(":");
  const words = [action, subresource].filter(Boolean).join(" ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The operation's object: "task #3", "job #7 (task #3)", "project #2"; a restore's target may have no id yet. */
export function targetLabel(op: RequestOperation): string {
  const id = op.target === "job" ? op.job_id : op.target === "task" ? op.task_id : op.target === "project" ? op.project_id : null;
  let text = id !== null && id !== undefined ? `${op.target} #${id}` : `new ${op.target}`;
  if (op.target === "job" && op.task_id !== null && op.task_id !== undefined) text += ` (task #${op.task_id})`;
  return text;
}

/** "Export dataset of task #3 in COCO 1.0", "Automatic annotation of task #3 with yolox-nano". */
export function operationLabel(op: RequestOperation): string {
  const base = `${actionLabel(op.type)} of ${targetLabel(op)}`;
  if (op.format) return `${base} in ${op.format}`;
  return op.function_id ? `${base} with ${op.function_id}` : base;
}

/** An auto-annotation request: cancelled through the lambda API, which also stops its work. */
export function isAutoAnnotation(op: Pick<RequestOperation, "type">): boolean {
  return op.type.startsWith("autoannotate:");
}

/** The app's link to what a request made or works on (a restore's or task creation's result_id first). */
export function targetPath(request: Pick<BackgroundRequest, "operation" | "result_id" | "status">): string | null {
  const op = request.operation;
  if ((op.type === "import:backup" || op.type === "create:task") && request.status === "finished" && request.result_id) {
    return op.target === "project" ? `/projects/${request.result_id}` : `/tasks/${request.result_id}`;
  }
  if (op.target === "job" && op.job_id && op.task_id) return `/tasks/${op.task_id}/jobs/${op.job_id}`;
  if (op.target === "task" && op.task_id) return `/tasks/${op.task_id}`;
  if (op.target === "project" && op.project_id) return `/projects/${op.project_id}`;
  return null;
}

export interface PartSlice {
  part_number: number;
  start: number;
  end: number; // exclusive
}

/** The byte ranges of a file for the presigned part URLs (each part says its size; sizes must add up). */
export function partSlices(fileSize: number, parts: { part_number: number; size: number }[]): PartSlice[] {
  const sorted = [...parts].sort((a, b) => a.part_number - b.part_number);
  const slices: PartSlice[] = [];
  let start = 0;
  for (const part of sorted) {
    slices.push({ part_number: part.part_number, start, end: start + part.size });
    start += part.size;
  }
  if (start !== fileSize) throw new Error(`The upload's parts cover ${start} bytes, the file has ${fileSize}.`);
  return slices;
}

/** "12.3 MB" for sizes shown beside a chosen file. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = "B";
  for (const u of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = u;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${unit}`;
}
