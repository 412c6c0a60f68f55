// A minimal zip reader for CVAT's chunks: the entries from the central directory (ZIP64 too) and
// an entry's bytes (stored: a view into the zip, no copy; deflate: DecompressionStream). Chunks
// are stored zips of JPEGs, so a full unzip library (fflate) would only add weight.

export interface ZipEntry {
  name: string;
  offset: number; // where the entry's (compressed) data starts in the zip
  size: number; // its compressed size in bytes
  method: number; // 0 stored, 8 deflate
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;

export class ZipError extends Error {
  constructor(message: string) {
    super(`Corrupt zip: ${message}`);
    this.name = "ZipError";
  }
}

/** The zip's entries in central-directory order (directories left out). */
export function listEntries(bytes: Uint8Array): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = findEocd(view);
  let count = view.getUint16(eocd + 10, true);
  let cdSize: number = view.getUint32(eocd + 12, true);
  let cdOffset: number = view.getUint32(eocd + 16, true);
  if (count === MAX16 || cdSize === MAX32 || cdOffset === MAX32) {
    ({ count, cdSize, cdOffset } = readZip64Eocd(view, eocd));
  }
  if (cdOffset + cdSize > view.byteLength) throw new ZipError("the central directory lies past the end of the data");
  const entries: ZipEntry[] = [];
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > view.byteLength || view.getUint32(at, true) !== CENTRAL) {
      throw new ZipError(`central directory entry ${i} is missing`);
    }
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    let size: number = view.getUint32(at + 20, true);
    let uncompressed: number = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    let local: number = view.getUint32(at + 42, true);
    const nameStart = at + 46;
    const extraStart = nameStart + nameLength;
    if (extraStart + extraLength > view.byteLength) throw new ZipError(`central directory entry ${i} is cut off`);
    const name = new TextDecoder().decode(bytes.subarray(nameStart, extraStart));
    if (uncompressed === MAX32 || size === MAX32 || local === MAX32) {
      ({ uncompressed, size, local } = readZip64Extra(view, extraStart, extraLength, { uncompressed, size, local }, name));
    }
    at = extraStart + extraLength + commentLength;
    if (name.endsWith("/")) continue;
    if (flags & 1) throw new ZipError(`${name} is encrypted`);
    entries.push({ name, offset: dataOffset(view, local, name), size, method });
  }
  return entries;
}

/** An entry's uncompressed bytes: a view into `bytes` for stored entries. */
export async function entryBytes(bytes: Uint8Array, entry: ZipEntry): Promise<Uint8Array> {
  if (entry.offset + entry.size > bytes.byteLength) throw new ZipError(`${entry.name} is cut off`);
  const data = bytes.subarray(entry.offset, entry.offset + entry.size);
  if (entry.method === 0) return data;
  if (entry.method !== 8) throw new Error(`${entry.name}: zip compression method ${entry.method} is not supported`);
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  try {
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (error) {
    throw new ZipError(`${entry.name} cannot be inflated (${error instanceof Error ? error.message : String(error)})`);
  }
}

function findEocd(view: DataView): number {
  const lowest = Math.max(0, view.byteLength - 22 - MAX16);
  for (let at = view.byteLength - 22; at >= lowest; at--) {
    if (view.getUint32(at, true) === EOCD) return at;
  }
  throw new ZipError("no end of central directory record (not a zip, or cut off)");
}

function readZip64Eocd(view: DataView, eocd: number): { count: number; cdSize: number; cdOffset: number } {
  const locator = eocd - 20;
  if (locator < 0 || view.getUint32(locator, true) !== ZIP64_LOCATOR) throw new ZipError("the ZIP64 locator is missing");
  const record = uint64(view, locator + 8);
  if (record + 56 > view.byteLength || view.getUint32(record, true) !== ZIP64_EOCD) {
    throw new ZipError("the ZIP64 end of central directory record is missing");
  }
  return { count: uint64(view, record + 32), cdSize: uint64(view, record + 40), cdOffset: uint64(view, record + 48) };
}

interface Sizes {
  uncompressed: number;
  size: number;
  local: number;
}

/** The ZIP64 extra field (0x0001) holds, in this order, the values that overflowed. */
function readZip64Extra(view: DataView, start: number, length: number, sizes: Sizes, name: string): Sizes {
  for (let at = start; at + 4 <= start + length; ) {
    const id = view.getUint16(at, true);
    const fieldLength = view.getUint16(at + 2, true);
    if (id === 0x0001) {
      const out = { ...sizes };
      let p = at + 4;
      const end = p + fieldLength;
      for (const key of ["uncompressed", "size", "local"] as const) {
        if (sizes[key] !== MAX32) continue;
        if (p + 8 > end) throw new ZipError(`${name}: the ZIP64 extra field is too short`);
        out[key] = uint64(view, p);
        p += 8;
      }
      return out;
    }
    at += 4 + fieldLength;
  }
  throw new ZipError(`${name}: the ZIP64 extra field is missing`);
}

function dataOffset(view: DataView, local: number, name: string): number {
  if (local + 30 > view.byteLength || view.getUint32(local, true) !== LOCAL) throw new ZipError(`${name}: the local header is missing`);
  return local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
}

function uint64(view: DataView, at: number): number {
  const value = view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
  if (!Number.isSafeInteger(value)) throw new ZipError("a ZIP64 value is too large");
  return value;
}
