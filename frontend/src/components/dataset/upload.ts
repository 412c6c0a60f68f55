// Sending an import's or a backup's file the way a browser can on AWS (a Lambda receives at most
// 6 MB): the presigned direct upload of README "Export, import and backups". POST `<base>/uploads`
// (the upload id and a presigned URL per part), PUT each part straight to S3 (the bucket's CORS
// rule exposes ETag), POST `<base>/uploads/complete` with the ETags, then CVAT's `Upload-Finish`
// on `<base>` with `filename=<upload id>`, which answers the background request's rq_id.
import { api, type Params } from "../../api/client";
import type { BackgroundRequest } from "../../api/types";
import { partSlices, pollRequest } from "../../lib/requests";
import { xhrPut } from "../../lib/upload";

interface DirectFileUpload {
  upload_id: string;
  filename: string;
  part_size: number;
  parts: { part_number: number; url: string; size: number }[];
  expires_in: number;
}

export interface UploadProgress {
  sent: number; // bytes
  total: number;
}

/** Uploads `file` for the endpoint `base` (e.g. `/api/tasks/7/annotations`); resolves with the upload id. */
export async function directUpload(base: string, file: File, onProgress?: (p: UploadProgress) => void, signal?: AbortSignal): Promise<string> {
  const started = await api.post<DirectFileUpload>(`${base}/uploads`, { filename: file.name, size: file.size });
  try {
    const slices = partSlices(file.size, started.parts);
    const urls = new Map(started.parts.map((p) => [p.part_number, p.url]));
    const done: { part_number: number; etag: string }[] = [];
    let sent = 0;
    onProgress?.({ sent, total: file.size });
    const aborted = signal ?? new AbortController().signal;
    for (const slice of slices) {
      // the task-data uploader's PUT: S3's own error message, byte progress within the part
      const etag = await xhrPut(urls.get(slice.part_number)!, file.slice(slice.start, slice.end),
        (loaded) => onProgress?.({ sent: sent + loaded, total: file.size }), aborted);
      done.push({ part_number: slice.part_number, etag });
      sent += slice.end - slice.start;
      onProgress?.({ sent, total: file.size });
    }
    await api.post(`${base}/uploads/complete`, { upload_id: started.upload_id, parts: done });
  } catch (error) {
    api.post(`${base}/uploads/abort`, { upload_id: started.upload_id }).catch(() => undefined);
    throw error;
  }
  return started.upload_id;
}

/** CVAT's `Upload-Finish`: the import or restore starts; its rq_id. */
export async function finishUpload(base: string, uploadId: string, params: Params = {}): Promise<string> {
  const answer = await api.post<{ rq_id: string }>(base, undefined, { ...params, filename: uploadId }, { "Upload-Finish": "true" });
  return answer.rq_id;
}

export function readRequest(id: string): Promise<BackgroundRequest> {
  return api.get<BackgroundRequest>(`/api/requests/${encodeURIComponent(id)}`);
}

/** Polls a request with the UI's pace (1 s; imports and exports of big tasks may take a while). */
export function waitForRequest(id: string, onUpdate: (r: BackgroundRequest) => void, signal?: AbortSignal): Promise<BackgroundRequest> {
  return pollRequest(readRequest, id, { interval: 1000, timeout: 60 * 60_000, signal, onUpdate });
}
