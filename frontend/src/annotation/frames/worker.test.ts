// Tests of the worker's message handling (createFrameDecoder) with a fake fetch serving chunk zips
// and a fake createImageBitmap (node has no ImageBitmap): fetch options, chunk reuse and its LRU,
// the reply protocol, transfer of the bitmap, and errors with their HTTP status.
import { describe, expect, it } from "vitest";
import { makeZip } from "./__fixtures__/makeZip";
import { createFrameDecoder, type WorkerReply } from "./worker";

interface FakeBitmap {
  width: number;
  height: number;
  text: string;
  close(): void;
}

async function chunkZip(frames: string[]): Promise<Uint8Array> {
  const entries = frames.map((text, i) => ({ name: `${String(i).padStart(6, "0")}.jpeg`, data: new TextEncoder().encode(text) }));
  return makeZip([...entries].reverse()); // entry order in the zip must not matter: names do
}

function setup(routes: Record<string, () => Response>, maxChunks?: number) {
  const fetched: { url: string; init: RequestInit }[] = [];
  const replies: { reply: WorkerReply; transfer: Transferable[] }[] = [];
  const decoder = createFrameDecoder({
    post: (reply, transfer) => replies.push({ reply, transfer }),
    fetch: async (url, init) => {
      fetched.push({ url, init });
      const route = routes[url];
      if (!route) throw new TypeError("Failed to fetch");
      return route();
    },
    createImageBitmap: async (blob) => {
      const text = await blob.text();
      if (text.startsWith("bad")) throw new Error("The source image could not be decoded.");
      const bitmap: FakeBitmap = { width: text.length, height: 10, text, close: () => undefined };
      return bitmap as unknown as ImageBitmap;
    },
    maxChunks,
  });
  return { decoder, fetched, replies };
}

const zipResponse = (zip: Uint8Array) => () => new Response(zip as Uint8Array<ArrayBuffer>, { status: 200 });

describe("createFrameDecoder", () => {
  it("fetches a chunk once for concurrent decodes and answers each with its bitmap, transferred", async () => {
    const zip = await chunkZip(["frame-0", "frame-one", "frame-2"]);
    const { decoder, fetched, replies } = setup({ "/c/0": zipResponse(zip) });
    await Promise.all([
      decoder.handle({ type: "decode", id: 1, chunkUrl: "/c/0", position: 1 }),
      decoder.handle({ type: "decode", id: 2, chunkUrl: "/c/0", position: 2 }),
    ]);
    expect(fetched).toEqual([{ url: "/c/0", init: { credentials: "same-origin", redirect: "follow" } }]);
    const one = replies.find((r) => r.reply.id === 1)!;
    expect(one.reply).toMatchObject({ id: 1, width: 9, height: 10 });
    expect(((one.reply as { bitmap: unknown }).bitmap as FakeBitmap).text).toBe("frame-one");
    expect(one.transfer).toEqual([(one.reply as { bitmap: unknown }).bitmap]);
    expect(((replies.find((r) => r.reply.id === 2)!.reply as { bitmap: unknown }).bitmap as FakeBitmap).text).toBe("frame-2");
  });

  it("answers a chunk request with its frame count and keeps the chunk for decodes", async () => {
    const { decoder, fetched, replies } = setup({ "/c/0": zipResponse(await chunkZip(["a", "b"])) });
    await decoder.handle({ type: "chunk", id: 7, url: "/c/0" });
    await decoder.handle({ type: "decode", id: 8, chunkUrl: "/c/0", position: 0 });
    expect(replies[0]!.reply).toEqual({ id: 7, frames: 2 });
    expect(replies[1]!.reply).toMatchObject({ id: 8, width: 1 });
    expect(fetched).toHaveLength(1);
  });

  it("keeps at most maxChunks chunks, least recently used out", async () => {
    const zip = await chunkZip(["x"]);
    const { decoder, fetched } = setup({ a: zipResponse(zip), b: zipResponse(zip), c: zipResponse(zip) }, 2);
    for (const url of ["a", "b", "a", "c", "a", "b"]) await decoder.handle({ type: "chunk", id: 1, url });
    expect(fetched.map((f) => f.url)).toEqual(["a", "b", "c", "b"]);
    expect(decoder.chunks()).toEqual(["a", "b"]);
  });

  it("reports HTTP errors with their status and CVAT's message, and tries again next time", async () => {
    let fail = true;
    const zip = await chunkZip(["ok"]);
    const { decoder, fetched, replies } = setup({
      "/c/0": () => (fail ? new Response(JSON.stringify({ detail: "Not found." }), { status: 404 }) : zipResponse(zip)()),
    });
    await decoder.handle({ type: "decode", id: 1, chunkUrl: "/c/0", position: 0 });
    expect(replies[0]!.reply).toEqual({ id: 1, error: "Not found.", status: 404, chunk: true });
    fail = false;
    await decoder.handle({ type: "decode", id: 2, chunkUrl: "/c/0", position: 0 });
    expect(replies[1]!.reply).toMatchObject({ id: 2, width: 2 });
    expect(fetched).toHaveLength(2);
  });

  it("reports a network failure and a corrupt chunk as chunk errors with status 0", async () => {
    const { decoder, replies } = setup({ "/html": () => new Response("<html>login</html>", { status: 200 }) });
    await decoder.handle({ type: "decode", id: 1, chunkUrl: "/nowhere", position: 0 });
    await decoder.handle({ type: "decode", id: 2, chunkUrl: "/html", position: 0 });
    expect(replies[0]!.reply).toEqual({ id: 1, error: "network error (Failed to fetch)", status: 0, chunk: true });
    expect(replies[1]!.reply).toMatchObject({ id: 2, status: 0, chunk: true });
    expect((replies[1]!.reply as { error: string }).error).toMatch(/^Corrupt zip: no end of central directory/);
  });

  it("reports a missing position and an undecodable frame as frame errors", async () => {
    const { decoder, replies } = setup({ "/c/0": zipResponse(await chunkZip(["good", "bad bytes"])) });
    await decoder.handle({ type: "decode", id: 1, chunkUrl: "/c/0", position: 5 });
    await decoder.handle({ type: "decode", id: 2, chunkUrl: "/c/0", position: 1 });
    expect(replies[0]!.reply).toEqual({ id: 1, error: "the chunk has no frame at position 5 (it has 2)", status: 0 });
    expect(replies[1]!.reply).toEqual({ id: 2, error: "the image cannot be decoded (The source image could not be decoded.)", status: 0 });
  });

  it("decodes a single image from the one-frame endpoint", async () => {
    const { decoder, replies, fetched } = setup({
      "/frame/3": () => new Response("jpeg-three", { status: 200, headers: { "Content-Type": "image/jpeg" } }),
      "/frame/4": () => new Response("Forbidden", { status: 403 }),
    });
    await decoder.handle({ type: "image", id: 1, url: "/frame/3" });
    await decoder.handle({ type: "image", id: 2, url: "/frame/4" });
    expect(replies[0]!.reply).toMatchObject({ id: 1, width: 10 });
    expect(replies[1]!.reply).toEqual({ id: 2, error: "Forbidden", status: 403 });
    expect(fetched[0]!.init.credentials).toBe("same-origin");
  });
});
