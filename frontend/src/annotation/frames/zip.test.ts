// Tests of the chunk zip reader: a zip made by Python's zipfile (as the server makes chunks), zips
// from a small writer here (ZIP64 records, extra fields, comments, deflate) and corrupt input.
import { describe, expect, it } from "vitest";
import { makeZip } from "./__fixtures__/makeZip";
import { entryBytes, listEntries, ZipError } from "./zip";

// Python: ZipFile(ZIP_STORED, allowZip64=True): 000000.jpeg, 000001.jpeg stored, notes/readme.txt deflated.
const PYTHON_ZIP =
  "UEsDBBQAAAAAAAAAIQBSuWh4CQAAAAkAAAALAAAAMDAwMDAwLmpwZWf/2GZpcnN0/9lQSwMEFAAAAAAAAAAhAJs1HSEQAAAAEAAAAAsAAAAwMDAwMDEuanBlZ//Yc2Vjb25kIGZyYW1l/9lQSwMEFAAAAAgAAAAhAJWp55oRAAAAHwAAABAAAABub3Rlcy9yZWFkbWUudHh0y0jNyclXyMAgU1LTchJLUgFQSwECFAMUAAAAAAAAACEAUrloeAkAAAAJAAAACwAAAAAAAAAAAAAAgAEAAAAAMDAwMDAwLmpwZWdQSwECFAMUAAAAAAAAACEAmzUdIRAAAAAQAAAACwAAAAAAAAAAAAAAgAEyAAAAMDAwMDAxLmpwZWdQSwECFAMUAAAACAAAACEAlannmhEAAAAfAAAAEAAAAAAAAAAAAAAAgAFrAAAAbm90ZXMvcmVhZG1lLnR4dFBLBQYAAAAAAwADALAAAACqAAAAAAA=";

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const bytesOf = (value: string): Uint8Array => new TextEncoder().encode(value);

describe("listEntries / entryBytes", () => {
  it("reads a zip written by Python's zipfile (stored and deflated members)", async () => {
    const zip = Uint8Array.from(atob(PYTHON_ZIP), (c) => c.charCodeAt(0));
    const entries = listEntries(zip);
    expect(entries.map((e) => [e.name, e.method])).toEqual([
      ["000000.jpeg", 0],
      ["000001.jpeg", 0],
      ["notes/readme.txt", 8],
    ]);
    expect([...(await entryBytes(zip, entries[0]!))]).toEqual([0xff, 0xd8, ...bytesOf("first"), 0xff, 0xd9]);
    const second = await entryBytes(zip, entries[1]!);
    expect([...second.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    expect(text(second.subarray(2, -2))).toBe("second frame");
    expect(text(await entryBytes(zip, entries[2]!))).toBe("hello hello hello hello deflate");
  });

  it("gives stored entries as views into the zip, without copying", async () => {
    const zip = await makeZip([{ name: "000000.jpeg", data: bytesOf("abc") }]);
    const entry = listEntries(zip)[0]!;
    const data = await entryBytes(zip, entry);
    expect(data.buffer).toBe(zip.buffer);
    expect(text(data)).toBe("abc");
  });

  it("finds the data after a local header whose extra field differs from the central one", async () => {
    const zip = await makeZip([
      { name: "000000.jpeg", data: bytesOf("one"), localExtra: 12 },
      { name: "000001.jpeg", data: bytesOf("two"), localExtra: 0 },
    ]);
    const entries = listEntries(zip);
    expect(await Promise.all(entries.map(async (e) => text(await entryBytes(zip, e))))).toEqual(["one", "two"]);
  });

  it("reads ZIP64 records and extra fields", async () => {
    const frames = Array.from({ length: 5 }, (_, i) => ({ name: `${String(i).padStart(6, "0")}.jpeg`, data: bytesOf(`frame ${i}`) }));
    const zip = await makeZip([...frames, { name: "big.txt", data: bytesOf("z".repeat(1000)), deflate: true }], { zip64: true });
    const entries = listEntries(zip);
    expect(entries.map((e) => e.name)).toEqual([...frames.map((f) => f.name), "big.txt"]);
    for (const [i, entry] of entries.slice(0, 5).entries()) expect(text(await entryBytes(zip, entry))).toBe(`frame ${i}`);
    expect(entries[5]!.size).toBeLessThan(1000);
    expect(text(await entryBytes(zip, entries[5]!))).toBe("z".repeat(1000));
  });

  it("handles an archive comment, a prefix before the zip and an empty zip", async () => {
    const zip = await makeZip([{ name: "a.jpeg", data: bytesOf("A") }], { comment: "PK\x05\x06 not a record", prefix: 7 });
    expect(text(await entryBytes(zip, listEntries(zip)[0]!))).toBe("A");
    expect(listEntries(await makeZip([]))).toEqual([]);
  });

  it("skips directory entries", async () => {
    const zip = await makeZip([{ name: "dir/", data: new Uint8Array() }, { name: "dir/x.jpeg", data: bytesOf("x") }]);
    expect(listEntries(zip).map((e) => e.name)).toEqual(["dir/x.jpeg"]);
  });

  it("throws a clear error for data that is not a zip or is cut off", async () => {
    expect(() => listEntries(bytesOf("<html>Not found</html>"))).toThrow(/Corrupt zip: no end of central directory record/);
    expect(() => listEntries(new Uint8Array())).toThrow(ZipError);
    const zip = await makeZip([{ name: "000000.jpeg", data: bytesOf("abcdef") }]);
    expect(() => listEntries(zip.subarray(0, zip.length - 5))).toThrow(ZipError);
    // the central directory pointing at garbage
    const broken = zip.slice();
    const cd = broken.length - 22 - 46 - 11;
    broken[cd] = 0;
    expect(() => listEntries(broken)).toThrow(/central directory entry 0 is missing/);
    // an entry's data past the end
    const entry = { ...listEntries(zip)[0]!, size: 10_000 };
    await expect(entryBytes(zip, entry)).rejects.toThrow(/000000.jpeg is cut off/);
  });

  it("rejects a bad deflate stream and an unknown method with clear errors", async () => {
    const zip = await makeZip([{ name: "x.txt", data: bytesOf("hello hello hello"), deflate: true }]);
    const entry = listEntries(zip)[0]!;
    const broken = zip.slice();
    broken.fill(0xff, entry.offset, entry.offset + entry.size);
    await expect(entryBytes(broken, entry)).rejects.toThrow(/Corrupt zip: x.txt cannot be inflated/);
    await expect(entryBytes(zip, { ...entry, method: 12 })).rejects.toThrow(/method 12 is not supported/);
  });
});
