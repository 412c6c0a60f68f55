// Sending an import's or a backup's file the way a browser can on AWS (a Lambda receives at most
// 6 MB): the presigned direct upload of README "Export, import and backups". POST `<base>/uploads`
// (the upload id and a presigned URL per part), PUT each part straight to S3 (the bucket's CORS
// rule exposes ETag), POST `<base>/uploads/complete` with the ETags, then CVAT's `Upload-Finish`
// on `<base>` with `filename=<upload id>`, which answers the background request's rq_id.
import { api, type Params } from "../../api/client";
import type { BackgroundRequest } from "../../api/types";
import { partSlices, pollRequest } from "../../lib/requests";

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

async function putPart(url: string, body: Blob, signal?: AbortSignal): Promise<string> {
  const response = await fetch(url, { method: "PUT", body, signal, credentials: "omit" });
  if (!response.ok) {
    const text = await response.text().catch(() => "");
    const code = /<Message>([^<]+)<\/Message>/.exec(text)?.[1];
    throw new Error(`The storage refused a part of the file (${response.status}${code ? `: ${code}` : ""}).`);
  }
  const etag = response.headers.get("ETag");
  if (!etag) throw new Error("The storage did not expose the part's ETag (its CORS rule must expose ETag).");
  return etag;
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
    for (const slice of slices) {
      const etag = await putPart(urls.get(slice.part_number)!, file.slice(slice.start, slice.end), signal);
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
