// The bookkeeping of a presigned multipart upload (README "Upload paths"): the server's answer to
// `POST /api/tasks/{id}/data/uploads` decides each file's parts (number, URL, size); this module
// lays them over the file's bytes, remembers which parts S3 took (their ETags, so a resume sends
// only the others with the same upload ids), and sums the progress in bytes.

export interface UploadFileRequest {
  name: string;
  size: number;
  content_type?: string;
}

/** One part URL of the server's answer. */
export interface PartUrl {
  part_number: number;
  url: string;
  size: number;
}

/** One file of the server's answer (DirectUpload). */
export interface DirectUpload {
  name: string;
  upload_id: string;
  part_size: number;
  parts: PartUrl[];
}

export interface DirectUploadsRead {
  files: DirectUpload[];
  expires_in: number;
}

export interface PlannedPart {
  number: number;
  url: string;
  /** the byte range of the file this part carries: [start, end) */
  start: number;
  end: number;
  etag: string | null;
}

export interface PlannedFile {
  /** the index of the file in the list the client asked for */
  index: number;
  /** the name the server stages the file under */
  name: string;
  uploadId: string;
  size: number;
  parts: PlannedPart[];
}

export type UploadPlan = PlannedFile[];

/** The server's own limits (services.direct_uploads): used only to split a long list of files
 * into several start requests; the parts themselves always come from the server's answer. */
export const MIN_PART_SIZE = 16 * 1024 * 1024;
export const MAX_PARTS_PER_FILE = 1024;
export const MAX_URLS_PER_ANSWER = 2000;
export const MAX_FILES_PER_REQUEST = 1000;

/** At most how many part URLs the server can answer for a file of `size` bytes. */
export function maxPartsFor(size: number): number {
  return Math.max(1, Math.min(MAX_PARTS_PER_FILE, Math.ceil(size / MIN_PART_SIZE)));
}

/** Indices of `sizes` in batches that each fit one start request (URLs and files per answer). */
export function batchForStart(sizes: number[], maxUrls = MAX_URLS_PER_ANSWER, maxFiles = MAX_FILES_PER_REQUEST): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let urls = 0;
  sizes.forEach((size, index) => {
    const parts = maxPartsFor(size);
    if (current.length && (urls + parts > maxUrls || current.length >= maxFiles)) {
      batches.push(current);
      current = [];
      urls = 0;
    }
    current.push(index);
    urls += parts;
  });
  if (current.length) batches.push(current);
  return batches;
}

/** Lay the server's parts over the files' bytes. `indices[i]` is the index (in the client's list)
 * of the file the answer's `files[i]` belongs to; `sizes` are the sizes of the client's files.
 * Throws when the answer does not cover a file exactly. */
export function planFromAnswer(answer: DirectUploadsRead, indices: number[], sizes: number[]): UploadPlan {
  if (answer.files.length !== indices.length) {
    throw new Error(`The server answered ${answer.files.length} uploads for ${indices.length} files.`);
  }
  return answer.files.map((upload, i) => {
    const index = indices[i] as number;
    const size = sizes[index] as number;
    const ordered = [...upload.parts].sort((a, b) => a.part_number - b.part_number);
    let offset = 0;
    const parts = ordered.map((part) => {
      const planned: PlannedPart = { number: part.part_number, url: part.url, start: offset, end: offset + part.size, etag: null };
      offset += part.size;
      return planned;
    });
    if (offset !== size) throw new Error(`${upload.name}: the server's parts cover ${offset} of ${size} bytes.`);
    return { index, name: upload.name, uploadId: upload.upload_id, size, parts };
  });
}

export interface PartRef {
  file: number; // position in the plan
  part: number; // position in the file's parts
}

/** The parts S3 has not taken yet, file by file, in order. */
export function pendingParts(plan: UploadPlan): PartRef[] {
  const pending: PartRef[] = [];
  plan.forEach((file, f) => file.parts.forEach((part, p) => {
    if (!part.etag) pending.push({ file: f, part: p });
  }));
  return pending;
}

/** The plan with one part done (its ETag kept); the plan itself is left as it was. */
export function markDone(plan: UploadPlan, ref: PartRef, etag: string): UploadPlan {
  return plan.map((file, f) =>
    f !== ref.file ? file : { ...file, parts: file.parts.map((part, p) => (p === ref.part ? { ...part, etag } : part)) },
  );
}

export function isComplete(plan: UploadPlan): boolean {
  return plan.every((file) => file.parts.every((part) => part.etag));
}

export function partKey(ref: PartRef): string {
  return `${ref.file}:${ref.part}`;
}

export interface Progress {
  /** bytes sent per file of the plan (done parts plus what is in flight) */
  files: number[];
  loaded: number;
  total: number;
  /** 0..1 */
  fraction: number;
}

/** Progress in bytes: done parts count whole, parts in flight by `inflight` (part key -> bytes
 * sent so far, capped at the part's size). */
export function progressOf(plan: UploadPlan, inflight: ReadonlyMap<string, number> = new Map()): Progress {
  const files = plan.map((file, f) =>
    file.parts.reduce((sum, part, p) => {
      const size = part.end - part.start;
      if (part.etag) return sum + size;
      return sum + Math.min(size, Math.max(0, inflight.get(partKey({ file: f, part: p })) ?? 0));
    }, 0),
  );
  const loaded = files.reduce((a, b) => a + b, 0);
  const total = plan.reduce((sum, file) => sum + file.size, 0);
  return { files, loaded, total, fraction: total ? loaded / total : 1 };
}

/** The body of `POST /api/tasks/{id}/data/uploads/complete`. */
export function completeBody(plan: UploadPlan): { files: { name: string; upload_id: string; parts: { part_number: number; etag: string }[] }[] } {
  return {
    files: plan.map((file) => ({
      name: file.name,
      upload_id: file.uploadId,
      parts: file.parts.map((part) => {
        if (!part.etag) throw new Error(`${file.name}: part ${part.number} is not uploaded.`);
        return { part_number: part.number, etag: part.etag };
      }),
    })),
  };
}

/** The body of `POST /api/tasks/{id}/data/uploads/abort`. */
export function abortBody(plan: UploadPlan): { files: { name: string; upload_id: string }[] } {
  return { files: plan.map((file) => ({ name: file.name, upload_id: file.uploadId })) };
}

/** The basename the server stages a file under (it keeps only the basename). */
export function basename(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

/** Basenames chosen more than once: the server stages by basename, so they would collide. */
export function duplicateNames(paths: string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const path of paths) {
    const name = basename(path);
    if (seen.has(name)) twice.add(name);
    seen.add(name);
  }
  return [...twice];
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}
