// Putting a task's data in: the request bodies of the create-task form, the presigned S3
// multipart upload of local files (parts PUT straight to S3, a few at a time, with pause and
// resume), CVAT's Upload-Start / Upload-Finish around it, and the background request's polling.
import type { BackgroundRequest } from "../api/types";
import { pollRequest, RequestFailedError } from "./requests";
import {
  abortBody,
  basename,
  batchForStart,
  completeBody,
  isComplete,
  markDone,
  partKey,
  pendingParts,
  planFromAnswer,
  progressOf,
  type DirectUploadsRead,
  type Progress,
  type UploadPlan,
} from "./uploadPlan";

// --- the request bodies --------------------------------------------------------------------------

export type SortingMethod = "lexicographical" | "natural" | "predefined" | "random";
export const SORTING_METHODS: SortingMethod[] = ["lexicographical", "natural", "predefined", "random"];

/** The advanced options as the form holds them (text inputs: "" is "not set"). */
export interface AdvancedOptions {
  imageQuality: string;
  chunkSize: string;
  segmentSize: string;
  overlap: string;
  startFrame: string;
  stopFrame: string;
  frameStep: string;
  sortingMethod: SortingMethod;
  useZipChunks: boolean;
  useCache: boolean;
  copyData: boolean;
}

export const DEFAULT_OPTIONS: AdvancedOptions = {
  imageQuality: "70",
  chunkSize: "",
  segmentSize: "",
  overlap: "",
  startFrame: "",
  stopFrame: "",
  frameStep: "",
  sortingMethod: "lexicographical",
  useZipChunks: true,
  useCache: true,
  copyData: false,
};

export type DataSource =
  | { kind: "local"; paths: string[] }
  | { kind: "share"; paths: string[] }
  | { kind: "remote"; urls: string[] };

function integer(value: string, field: string, low = 0, high = 2 ** 31 - 1): number | undefined {
  const text = value.trim();
  if (!text) return undefined;
  if (!/^\d+$/.test(text)) throw new FormError(field, "A valid integer is required.");
  const number = Number(text);
  if (number < low || number > high) throw new FormError(field, `Ensure this value is between ${low} and ${high}.`);
  return number;
}

/** A field's problem, named as CVAT's API names the field. */
export class FormError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "FormError";
  }
}

export interface TaskForm {
  name: string;
  projectId: number | null;
  labels: unknown[];
  subset: string;
  options: AdvancedOptions;
}

/** The body of `POST /api/tasks` (TaskWriteRequest). */
export function taskBody(form: TaskForm): Record<string, unknown> {
  const name = form.name.trim();
  if (!name) throw new FormError("name", "This field may not be blank.");
  const body: Record<string, unknown> = { name };
  if (form.projectId !== null) body.project_id = form.projectId;
  else body.labels = form.labels;
  if (form.subset.trim()) body.subset = form.subset.trim();
  const segmentSize = integer(form.options.segmentSize, "segment_size");
  if (segmentSize !== undefined) body.segment_size = segmentSize;
  const overlap = integer(form.options.overlap, "overlap");
  if (overlap !== undefined) body.overlap = overlap;
  return body;
}

/** The data parameters of `POST /api/tasks/{id}/data/` (CVAT's DataRequest). */
export function dataParams(options: AdvancedOptions, source: DataSource): Record<string, unknown> {
  const quality = integer(options.imageQuality, "image_quality", 0, 100);
  if (quality === undefined) throw new FormError("image_quality", "This field is required.");
  const params: Record<string, unknown> = {
    image_quality: quality,
    sorting_method: options.sortingMethod,
    use_zip_chunks: options.useZipChunks,
    use_cache: options.useCache,
  };
  const chunkSize = integer(options.chunkSize, "chunk_size");
  if (chunkSize) params.chunk_size = chunkSize;
  const start = integer(options.startFrame, "start_frame");
  if (start !== undefined) params.start_frame = start;
  const stop = integer(options.stopFrame, "stop_frame");
  if (stop !== undefined) {
    if (stop < (start ?? 0)) throw new FormError("stop_frame", "The stop frame must not be before the start frame.");
    params.stop_frame = stop;
  }
  const step = integer(options.frameStep, "frame_filter", 1);
  if (step !== undefined && step > 1) params.frame_filter = `step=${step}`;
  if (source.kind === "local") {
    if (!source.paths.length) throw new FormError("client_files", "Choose at least one file.");
    params.client_files = source.paths.map(basename);
    if (options.sortingMethod === "predefined") params.upload_file_order = source.paths.map(basename);
  } else if (source.kind === "share") {
    if (!source.paths.length) throw new FormError("server_files", "Choose at least one file or folder of the share.");
    params.server_files = source.paths;
    params.copy_data = options.copyData;
  } else {
    if (!source.urls.length) throw new FormError("remote_files", "Give at least one URL.");
    params.remote_files = source.urls;
  }
  return params;
}

/** The URLs of a text area, one per line; blank lines are skipped. */
export function parseUrls(text: string): string[] {
  const urls = text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
  for (const url of urls) {
    if (!/^https?:\/\/\S+$/i.test(url)) throw new FormError("remote_files", `${url} is not an http(s) URL.`);
  }
  return urls;
}

// --- the presigned multipart upload --------------------------------------------------------------

/** What the uploader needs of the API client (api.post). */
export interface Poster {
  post<T>(path: string, body?: unknown, params?: undefined, headers?: Record<string, string>): Promise<T>;
}

/** PUT one part's bytes to its presigned URL; resolves with S3's ETag. */
export type PutPart = (url: string, body: Blob, onProgress: (loaded: number) => void, signal: AbortSignal) => Promise<string>;

export class AbortedError extends Error {
  constructor() {
    super("The request was aborted.");
    this.name = "AbortedError";
  }
}

/** The message of an S3 error body (`<Error><Code/><Message/></Error>`). */
export function s3Message(body: string, status: number): string {
  const message = /<Message>([\s\S]*?)<\/Message>/.exec(body)?.[1];
  const code = /<Code>([\s\S]*?)<\/Code>/.exec(body)?.[1];
  if (message) return code ? `${code}: ${message}` : message;
  return status ? `S3 refused the part (status ${status}).` : "The part could not be sent (network error).";
}

export const xhrPut: PutPart = (url, body, onProgress, signal) =>
  new Promise<string>((resolve, reject) => {
    if (signal.aborted) {
      reject(new AbortedError());
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        const etag = xhr.getResponseHeader("ETag");
        if (etag) resolve(etag);
        else reject(new Error("S3 answered without an ETag: the bucket's CORS rule must expose it."));
      } else reject(new Error(s3Message(xhr.responseText, xhr.status)));
    };
    const onAbort = () => xhr.abort();
    // the listener goes with the part: a file of 1,000 parts would keep 1,000 of them otherwise
    xhr.onloadend = () => signal.removeEventListener("abort", onAbort);
    xhr.onerror = () => reject(new Error(s3Message("", 0)));
    xhr.onabort = () => reject(new AbortedError());
    signal.addEventListener("abort", onAbort, { once: true });
    xhr.send(body);
  });

export interface UploadFile {
  name: string;
  size: number;
  type?: string;
  slice(start: number, end: number): Blob;
}

export interface UploaderOptions {
  api: Poster;
  taskId: number;
  files: UploadFile[];
  put?: PutPart;
  /** parts in flight at once */
  concurrency?: number;
  /** tries of one part before the upload fails */
  attempts?: number;
  onProgress?(progress: Progress): void;
}

/** The presigned multipart upload of a task's local files: `start` (Upload-Start, then the part
 * URLs), `run` (PUT the parts; `pause` stops it, a later `run` sends only the parts without an
 * ETag), `complete` (the files are staged), `abort` (drop the uploads). */
export class DirectUploader {
  plan: UploadPlan = [];
  private readonly put: PutPart;
  private readonly inflight = new Map<string, number>();
  private controller: AbortController | null = null;
  private paused = false;
  private completed = false;

  constructor(private readonly options: UploaderOptions) {
    this.put = options.put ?? xhrPut;
  }

  private path(suffix = ""): string {
    return `/api/tasks/${this.options.taskId}/data/${suffix}`;
  }

  get progress(): Progress {
    return progressOf(this.plan, this.inflight);
  }

  private emit(): void {
    this.options.onProgress?.(this.progress);
  }

  /** Upload-Start (what an earlier, unfinished upload left is dropped), then one multipart upload
   * per file, the files split into as many requests as the server's limits ask. */
  async start(): Promise<void> {
    await this.options.api.post(this.path(), undefined, undefined, { "Upload-Start": "true" });
    const sizes = this.options.files.map((f) => f.size);
    const plan: UploadPlan = [];
    try {
      for (const batch of batchForStart(sizes)) {
        const files = batch.map((i) => {
          const file = this.options.files[i] as UploadFile;
          return { name: basename(file.name), size: file.size, content_type: file.type ?? "" };
        });
        const answer = await this.options.api.post<DirectUploadsRead>(this.path("uploads"), { files });
        plan.push(...planFromAnswer(answer, batch, sizes));
      }
    } catch (error) {
      this.plan = plan;
      await this.abort().catch(() => undefined);
      throw error;
    }
    this.plan = plan;
    this.emit();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** PUT every part without an ETag, `concurrency` at a time. "paused" when `pause` stopped it. */
  async run(): Promise<"done" | "paused"> {
    this.paused = false;
    const controller = new AbortController();
    this.controller = controller;
    const queue = pendingParts(this.plan);
    let failure: unknown = null;
    const worker = async () => {
      for (let ref = queue.shift(); ref && !this.paused && failure === null; ref = queue.shift()) {
        const file = this.plan[ref.file]!;
        const part = file.parts[ref.part]!;
        const key = partKey(ref);
        const blob = this.options.files[file.index]!.slice(part.start, part.end);
        try {
          const etag = await this.send(part.url, blob, key, controller.signal);
          this.plan = markDone(this.plan, ref, etag);
        } catch (error) {
          if (!this.paused && failure === null && !(error instanceof AbortedError)) {
            failure = error;
            controller.abort(); // the other parts stop: the upload has failed
          }
        } finally {
          this.inflight.delete(key);
          this.emit();
        }
      }
    };
    const workers = Math.max(1, Math.min(this.options.concurrency ?? 4, queue.length));
    await Promise.all(Array.from({ length: workers }, worker));
    this.controller = null;
    if (failure !== null) throw failure;
    if (this.paused || !isComplete(this.plan)) return "paused";
    return "done";
  }

  private async send(url: string, blob: Blob, key: string, signal: AbortSignal): Promise<string> {
    const attempts = this.options.attempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.put(url, blob, (loaded) => {
          this.inflight.set(key, loaded);
          this.emit();
        }, signal);
      } catch (error) {
        this.inflight.delete(key);
        if (error instanceof AbortedError || signal.aborted || attempt >= attempts) throw error;
      }
    }
  }

  /** Stop: the parts in flight are aborted, no new part starts; `run` again resumes. */
  pause(): void {
    this.paused = true;
    this.controller?.abort();
  }

  /** Join the parts: the files are staged for Upload-Finish. */
  async complete(): Promise<string[]> {
    const answer = await this.options.api.post<{ files: string[] }>(this.path("uploads/complete"), completeBody(this.plan));
    this.completed = true;
    return answer.files;
  }

  /** Drop the uploads (their parts are deleted in S3). */
  async abort(): Promise<void> {
    this.pause();
    if (this.completed || !this.plan.length) return;
    await this.options.api.post(this.path("uploads/abort"), abortBody(this.plan));
  }
}

// --- the background request ----------------------------------------------------------------------

export interface Getter {
  get<T>(path: string): Promise<T>;
}

/** Poll `GET /api/requests/{id}` until it is finished or failed (lib/requests.ts's loop, no time
 *  limit: a large video takes as long as it takes); each answer goes to `onUpdate`. A failed
 *  request is returned, not thrown: the page shows its message beside the form. */
export async function waitForRequest(
  api: Getter,
  rqId: string,
  onUpdate: (request: BackgroundRequest) => void,
  { interval = 1000, signal }: { interval?: number; signal?: AbortSignal } = {},
): Promise<BackgroundRequest> {
  const read = (id: string) => api.get<BackgroundRequest>(`/api/requests/${encodeURIComponent(id)}`);
  try {
    return await pollRequest(read, rqId, { interval, signal, onUpdate, timeout: Number.POSITIVE_INFINITY });
  } catch (error) {
    if (error instanceof RequestFailedError) return error.request;
    throw error;
  }
}
