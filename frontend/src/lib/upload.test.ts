import { describe, expect, it } from "vitest";
import type { BackgroundRequest } from "../api/types";
import {
  AbortedError,
  dataParams,
  DEFAULT_OPTIONS,
  DirectUploader,
  parseUrls,
  s3Message,
  taskBody,
  waitForRequest,
  type PutPart,
} from "./upload";
import type { DirectUploadsRead } from "./uploadPlan";

class FakeFile {
  readonly bytes: Uint8Array;
  constructor(readonly name: string, size: number) {
    this.bytes = new Uint8Array(size);
  }
  get size() {
    return this.bytes.length;
  }
  slice(start: number, end: number): Blob {
    return new Blob([this.bytes.slice(start, end)]);
  }
}

/** A server that splits files in parts of `partSize` and records every call. */
function fakeApi(partSize: number) {
  const calls: { path: string; body: unknown; headers?: Record<string, string> }[] = [];
  const api = {
    calls,
    async post<T>(path: string, body?: unknown, _params?: undefined, headers?: Record<string, string>): Promise<T> {
      calls.push({ path, body, headers });
      if (path.endsWith("/data/uploads")) {
        const files = (body as { files: { name: string; size: number }[] }).files;
        const answer: DirectUploadsRead = {
          expires_in: 60,
          files: files.map((f, i) => ({
            name: f.name,
            upload_id: `up-${f.name}-${i}`,
            part_size: partSize,
            parts: Array.from({ length: Math.ceil(f.size / partSize) }, (_, p) => ({
              part_number: p + 1,
              url: `s3://${f.name}/${p + 1}`,
              size: Math.min(partSize, f.size - p * partSize),
            })),
          })),
        };
        return answer as T;
      }
      if (path.endsWith("/uploads/complete")) return { files: (body as { files: { name: string }[] }).files.map((f) => f.name) } as T;
      return undefined as T;
    },
  };
  return api;
}

describe("DirectUploader", () => {
  it("starts with Upload-Start, PUTs every part at most `concurrency` at a time, completes with the ETags", async () => {
    const api = fakeApi(4);
    let active = 0;
    let most = 0;
    const put: PutPart = async (url, body, onProgress) => {
      active += 1;
      most = Math.max(most, active);
      await Promise.resolve();
      onProgress(body.size);
      active -= 1;
      return `"etag ${url}"`;
    };
    const files = [new FakeFile("dir/a.png", 10), new FakeFile("b.png", 3)];
    const seen: number[] = [];
    const uploader = new DirectUploader({ api, taskId: 7, files, put, concurrency: 2, onProgress: (p) => seen.push(p.loaded) });
    await uploader.start();
    expect(api.calls[0]).toMatchObject({ path: "/api/tasks/7/data/", headers: { "Upload-Start": "true" } });
    expect(api.calls[1]!.body).toEqual({ files: [{ name: "a.png", size: 10, content_type: "" }, { name: "b.png", size: 3, content_type: "" }] });
    expect(await uploader.run()).toBe("done");
    expect(most).toBe(2);
    expect(uploader.progress.loaded).toBe(13);
    expect(Math.max(...seen)).toBe(13);
    expect(await uploader.complete()).toEqual(["a.png", "b.png"]);
    const complete = api.calls[2]!.body as { files: { parts: { part_number: number; etag: string }[] }[] };
    expect(complete.files[0]!.parts).toEqual([
      { part_number: 1, etag: '"etag s3://a.png/1"' },
      { part_number: 2, etag: '"etag s3://a.png/2"' },
      { part_number: 3, etag: '"etag s3://a.png/3"' },
    ]);
  });

  it("pauses (parts in flight aborted, none started) and resumes with only the parts without an ETag", async () => {
    const api = fakeApi(1);
    const sent: string[] = [];
    let pauseAtThird = true;
    let uploader: DirectUploader;
    const put: PutPart = (url, _body, _progress, signal) =>
      new Promise((resolve, reject) => {
        if (url.endsWith("/3") && pauseAtThird) {
          pauseAtThird = false;
          uploader.pause(); // the third part pauses the upload while it is in flight
          sent.push("paused");
        }
        if (signal.aborted) reject(new AbortedError());
        else {
          sent.push(url);
          resolve(`"${url}"`);
        }
      });
    uploader = new DirectUploader({ api, taskId: 1, files: [new FakeFile("a", 5)], put, concurrency: 1 });
    await uploader.start();
    expect(await uploader.run()).toBe("paused");
    expect(uploader.isPaused).toBe(true);
    expect(sent).toEqual(["s3://a/1", "s3://a/2", "paused"]);
    expect(await uploader.run()).toBe("done");
    expect(sent.filter((u) => u.startsWith("s3://"))).toEqual(["s3://a/1", "s3://a/2", "s3://a/3", "s3://a/4", "s3://a/5"]);
    expect(uploader.plan[0]!.uploadId).toBe("up-a-0"); // the same upload
  });

  it("retries a part, then fails with S3's message; abort drops the uploads", async () => {
    const api = fakeApi(10);
    let tries = 0;
    const put: PutPart = async () => {
      tries += 1;
      throw new Error("SlowDown: Please reduce your request rate.");
    };
    const uploader = new DirectUploader({ api, taskId: 3, files: [new FakeFile("v.mp4", 5)], put, attempts: 3 });
    await uploader.start();
    await expect(uploader.run()).rejects.toThrow("SlowDown");
    expect(tries).toBe(3);
    await uploader.abort();
    expect(api.calls.at(-1)).toMatchObject({ path: "/api/tasks/3/data/uploads/abort", body: { files: [{ name: "v.mp4", upload_id: "up-v.mp4-0" }] } });
  });
});

describe("request bodies", () => {
  it("builds the task body: labels without a project, the project's otherwise", () => {
    expect(taskBody({ name: " t ", projectId: null, labels: [{ name: "car" }], subset: "", options: DEFAULT_OPTIONS })).toEqual({ name: "t", labels: [{ name: "car" }] });
    expect(taskBody({ name: "t", projectId: 4, labels: [], subset: "train", options: { ...DEFAULT_OPTIONS, segmentSize: "10", overlap: "0" } })).toEqual({
      name: "t",
      project_id: 4,
      subset: "train",
      segment_size: 10,
      overlap: 0,
    });
    expect(() => taskBody({ name: " ", projectId: null, labels: [], subset: "", options: DEFAULT_OPTIONS })).toThrow("name: This field may not be blank.");
  });

  it("builds CVAT's data parameters for each source", () => {
    const options = { ...DEFAULT_OPTIONS, chunkSize: "12", startFrame: "1", stopFrame: "9", frameStep: "3", sortingMethod: "predefined" as const };
    expect(dataParams(options, { kind: "local", paths: ["d/b.png", "a.png"] })).toEqual({
      image_quality: 70,
      sorting_method: "predefined",
      use_zip_chunks: true,
      use_cache: true,
      chunk_size: 12,
      start_frame: 1,
      stop_frame: 9,
      frame_filter: "step=3",
      client_files: ["b.png", "a.png"],
      upload_file_order: ["b.png", "a.png"],
    });
    expect(dataParams({ ...DEFAULT_OPTIONS, copyData: true }, { kind: "share", paths: ["images/"] })).toMatchObject({ server_files: ["images/"], copy_data: true });
    expect(dataParams(DEFAULT_OPTIONS, { kind: "remote", urls: ["http://x/a.jpg"] })).toMatchObject({ remote_files: ["http://x/a.jpg"] });
    expect(() => dataParams({ ...DEFAULT_OPTIONS, imageQuality: "101" }, { kind: "local", paths: ["a"] })).toThrow(/image_quality/);
    expect(() => dataParams({ ...DEFAULT_OPTIONS, startFrame: "5", stopFrame: "2" }, { kind: "local", paths: ["a"] })).toThrow(/stop_frame/);
    expect(() => dataParams(DEFAULT_OPTIONS, { kind: "share", paths: [] })).toThrow(/server_files/);
  });

  it("reads URLs one per line", () => {
    expect(parseUrls(" http://a/1.jpg \n\nhttps://b/2.mp4\n")).toEqual(["http://a/1.jpg", "https://b/2.mp4"]);
    expect(() => parseUrls("ftp://x")).toThrow(/not an http/);
  });

  it("reads S3's error message", () => {
    expect(s3Message("<Error><Code>NoSuchUpload</Code><Message>The upload does not exist</Message></Error>", 404)).toBe("NoSuchUpload: The upload does not exist");
    expect(s3Message("", 0)).toMatch(/network error/);
    expect(s3Message("", 500)).toMatch(/status 500/);
  });
});

describe("waitForRequest", () => {
  it("polls until the request ends", async () => {
    const states = ["queued", "started", "finished"];
    const seen: string[] = [];
    const api = {
      async get<T>(path: string): Promise<T> {
        expect(path).toBe("/api/requests/create%3Atask-1");
        return { id: "x", status: states.shift(), progress: 0.5, message: "" } as unknown as T;
      },
    };
    const final = await waitForRequest(api, "create:task-1", (r: BackgroundRequest) => seen.push(r.status), { interval: 0 });
    expect(final.status).toBe("finished");
    expect(seen).toEqual(["queued", "started", "finished"]);
  });
});
