// The frame decoder, run as a module Worker so that fetching, unzipping and JPEG decoding never
// block the player: it fetches a job's compressed chunks (stored zips of JPEGs), keeps the JPEG
// bytes of the last few, and answers `decode` with an ImageBitmap transferred to the page.
// The message handling is `createFrameDecoder`, testable without a Worker; the bottom of the file
// binds it to the worker's global scope.
import { errorMessage } from "../../api/client";
import { Lru } from "./chunks";
import { entryBytes, listEntries } from "./zip";

export type WorkerRequest =
  /** fetch and unzip a chunk (ahead of need); answered with its frame count */
  | { type: "chunk"; id: number; url: string }
  /** entry `position` of the chunk at `chunkUrl` (fetched if needed), decoded */
  | { type: "decode"; id: number; chunkUrl: string; position: number }
  /** a single image (the one-frame endpoint), decoded */
  | { type: "image"; id: number; url: string };

export type WorkerReply =
  | { id: number; frames: number }
  | { id: number; bitmap: ImageBitmap; width: number; height: number }
  /** status: the HTTP status, 0 when there was none; chunk: the chunk itself could not be loaded */
  | { id: number; error: string; status: number; chunk?: boolean };

export interface DecoderDeps {
  post: (reply: WorkerReply, transfer: Transferable[]) => void;
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  createImageBitmap: (blob: Blob) => Promise<ImageBitmap>;
  maxChunks?: number; // chunks of JPEG bytes kept (default 6)
}

export interface FrameDecoder {
  handle(request: WorkerRequest): Promise<void>;
  /** the URLs of the chunks held, least recently used first */
  chunks(): string[];
}

const IMAGE_ENTRY = /\.(jpe?g|png|webp|bmp)$/i;

class LoadError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly chunk = false,
  ) {
    super(message);
  }
}

export function createFrameDecoder(deps: DecoderDeps): FrameDecoder {
  const held = new Lru<string, Promise<Uint8Array[]>>(deps.maxChunks ?? 6);

  function chunk(url: string): Promise<Uint8Array[]> {
    const known = held.get(url);
    if (known) return known;
    const loading = loadChunk(url);
    held.set(url, loading);
    loading.catch(() => {
      if (held.peek(url) === loading) held.delete(url); // the next request tries again
    });
    return loading;
  }

  async function loadChunk(url: string): Promise<Uint8Array[]> {
    try {
      const zip = new Uint8Array(await (await get(url)).arrayBuffer());
      const entries = listEntries(zip)
        .filter((entry) => IMAGE_ENTRY.test(entry.name))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return await Promise.all(entries.map((entry) => entryBytes(zip, entry)));
    } catch (error) {
      const status = error instanceof LoadError ? error.status : 0;
      throw new LoadError(error instanceof Error ? error.message : String(error), status, true);
    }
  }

  async function get(url: string): Promise<Response> {
    let response: Response;
    try {
      response = await deps.fetch(url, { credentials: "same-origin", redirect: "follow" });
    } catch (error) {
      throw new LoadError(`network error (${error instanceof Error ? error.message : String(error)})`, 0);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => "");
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: the text itself
      }
      throw new LoadError(errorMessage(body, response.status), response.status);
    }
    return response;
  }

  async function decode(id: number, blob: Blob): Promise<void> {
    let bitmap: ImageBitmap;
    try {
      bitmap = await deps.createImageBitmap(blob);
    } catch (error) {
      throw new LoadError(`the image cannot be decoded (${error instanceof Error ? error.message : String(error)})`, 0);
    }
    deps.post({ id, bitmap, width: bitmap.width, height: bitmap.height }, [bitmap]);
  }

  async function handle(request: WorkerRequest): Promise<void> {
    try {
      if (request.type === "chunk") {
        deps.post({ id: request.id, frames: (await chunk(request.url)).length }, []);
      } else if (request.type === "decode") {
        const entries = await chunk(request.chunkUrl);
        const bytes = entries[request.position];
        if (!bytes) throw new LoadError(`the chunk has no frame at position ${request.position} (it has ${entries.length})`, 0);
        await decode(request.id, new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }));
      } else {
        await decode(request.id, await (await get(request.url)).blob());
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof LoadError && error.chunk) deps.post({ id: request.id, error: message, status: error.status, chunk: true }, []);
      else deps.post({ id: request.id, error: message, status: error instanceof LoadError ? error.status : 0 }, []);
    }
  }

  return { handle, chunks: () => held.keys() };
}

// --- inside a Worker ----------------------------------------------------------------------------

interface WorkerScope {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: "message", listener: (event: MessageEvent<WorkerRequest>) => void): void;
  createImageBitmap(blob: Blob): Promise<ImageBitmap>;
  fetch: typeof fetch;
}

if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  const scope = globalThis as unknown as WorkerScope;
  const decoder = createFrameDecoder({
    post: (reply, transfer) => scope.postMessage(reply, transfer),
    fetch: (url, init) => scope.fetch(url, init),
    createImageBitmap: (blob) => scope.createImageBitmap(blob),
  });
  scope.addEventListener("message", (event) => void decoder.handle(event.data));
}
