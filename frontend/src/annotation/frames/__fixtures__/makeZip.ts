// Test helper: a small zip writer (stored or deflated entries, optional ZIP64 records) to build
// chunks in tests the way the server's zipfile does, and odd zips the reader must still handle.

const bytesOf = (value: string): Uint8Array => new TextEncoder().encode(value);

export interface WriteEntry {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
  localExtra?: number; // padding bytes in the local header's extra field (differs from the central one)
}

/** A small zip writer: stored or deflated entries; `zip64` writes every size and offset as ZIP64. */
export async function makeZip(entries: WriteEntry[], options: { zip64?: boolean; comment?: string; prefix?: number } = {}): Promise<Uint8Array> {
  const parts: number[] = new Array<number>(options.prefix ?? 0).fill(0x55); // e.g. a self-extractor stub
  const central: number[] = [];
  const u16 = (out: number[], v: number) => out.push(v & 0xff, (v >>> 8) & 0xff);
  const u32 = (out: number[], v: number) => out.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  const u64 = (out: number[], v: number) => {
    u32(out, v % 2 ** 32);
    u32(out, Math.floor(v / 2 ** 32));
  };
  const z64 = options.zip64 ?? false;
  for (const entry of entries) {
    const name = bytesOf(entry.name);
    const body = entry.deflate ? await deflate(entry.data) : entry.data;
    const crc = crc32(entry.data);
    const offset = parts.length;
    const localExtra = new Array<number>(entry.localExtra ?? 0).fill(0);
    if (localExtra.length >= 4) localExtra.splice(0, 4, 0x99, 0x99, (localExtra.length - 4) & 0xff, 0);
    u32(parts, 0x04034b50);
    u16(parts, 20);
    u16(parts, 0x0800);
    u16(parts, entry.deflate ? 8 : 0);
    u32(parts, 0);
    u32(parts, crc);
    u32(parts, body.length);
    u32(parts, entry.data.length);
    u16(parts, name.length);
    u16(parts, localExtra.length);
    parts.push(...name, ...localExtra, ...body);
    const extra: number[] = [];
    if (z64) {
      u16(extra, 0x0001);
      u16(extra, 24);
      u64(extra, entry.data.length);
      u64(extra, body.length);
      u64(extra, offset);
    }
    u32(central, 0x02014b50);
    u16(central, 45);
    u16(central, 45);
    u16(central, 0x0800);
    u16(central, entry.deflate ? 8 : 0);
    u32(central, 0);
    u32(central, crc);
    u32(central, z64 ? 0xffffffff : body.length);
    u32(central, z64 ? 0xffffffff : entry.data.length);
    u16(central, name.length);
    u16(central, extra.length);
    u16(central, 0);
    u16(central, 0);
    u16(central, 0);
    u32(central, 0);
    u32(central, z64 ? 0xffffffff : offset);
    central.push(...name, ...extra);
  }
  const cdOffset = parts.length;
  parts.push(...central);
  if (z64) {
    const record = parts.length;
    u32(parts, 0x06064b50);
    u64(parts, 44);
    u16(parts, 45);
    u16(parts, 45);
    u32(parts, 0);
    u32(parts, 0);
    u64(parts, entries.length);
    u64(parts, entries.length);
    u64(parts, central.length);
    u64(parts, cdOffset);
    u32(parts, 0x07064b50);
    u32(parts, 0);
    u64(parts, record);
    u32(parts, 1);
  }
  const comment = bytesOf(options.comment ?? "");
  u32(parts, 0x06054b50);
  u16(parts, 0);
  u16(parts, 0);
  u16(parts, z64 ? 0xffff : entries.length);
  u16(parts, z64 ? 0xffff : entries.length);
  u32(parts, z64 ? 0xffffffff : central.length);
  u32(parts, z64 ? 0xffffffff : cdOffset);
  u16(parts, comment.length);
  parts.push(...comment);
  return new Uint8Array(parts);
}

async function deflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
