// "My computer": files and folders by drag-and-drop (folders walked with webkitGetAsEntry), a file
// input and a folder input (webkitdirectory); the chosen files listed with their sizes.
import { useRef, useState, type DragEvent } from "react";
import { duplicateNames, formatBytes } from "../../../lib/uploadPlan";

export interface LocalItem {
  file: File;
  /** the path under what was dropped or chosen (folder/name), or the file's name */
  path: string;
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(dir: FileSystemDirectoryEntry, prefix: string, out: LocalItem[]): Promise<void> {
  const reader = dir.createReader();
  // readEntries answers in batches (100 in Chromium) until an empty one
  for (let batch = await readEntries(reader); batch.length; batch = await readEntries(reader)) {
    for (const entry of batch) {
      if (entry.isFile) out.push({ file: await fileOf(entry as FileSystemFileEntry), path: `${prefix}${entry.name}` });
      else if (entry.isDirectory) await walk(entry as FileSystemDirectoryEntry, `${prefix}${entry.name}/`, out);
    }
  }
}

/** The files of a drop: the entries must be taken while the event lasts, the folders walked after. */
async function itemsOfDrop(data: DataTransfer): Promise<LocalItem[]> {
  const folders: FileSystemDirectoryEntry[] = [];
  const items: LocalItem[] = [];
  for (const item of Array.from(data.items)) {
    if (item.kind !== "file") continue;
    const entry = typeof item.webkitGetAsEntry === "function" ? item.webkitGetAsEntry() : null;
    if (entry?.isDirectory) folders.push(entry as FileSystemDirectoryEntry);
    else {
      const file = item.getAsFile();
      if (file) items.push({ file, path: file.name });
    }
  }
  if (!data.items.length) for (const file of Array.from(data.files)) items.push({ file, path: file.name });
  for (const folder of folders) await walk(folder, `${folder.name}/`, items);
  return items;
}

function merge(current: LocalItem[], added: LocalItem[]): LocalItem[] {
  const seen = new Set(current.map((i) => `${i.path}\u0000${i.file.size}`));
  const out = [...current];
  for (const item of added) {
    const key = `${item.path}\u0000${item.file.size}`;
    if (!seen.has(key)) out.push(item);
    seen.add(key);
  }
  return out;
}

export function LocalFiles({ items, onChange, disabled }: { items: LocalItem[]; onChange(items: LocalItem[]): void; disabled?: boolean }) {
  const files = useRef<HTMLInputElement>(null);
  const folder = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const total = items.reduce((sum, i) => sum + i.file.size, 0);
  const duplicates = duplicateNames(items.map((i) => i.path));

  const add = (added: LocalItem[]) => {
    if (!disabled) onChange(merge(items, added));
  };
  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setOver(false);
    if (disabled) return;
    itemsOfDrop(event.dataTransfer).then(add, (reason: unknown) => setError(`The dropped folder could not be read: ${String(reason)}`));
  };
  const fromInput = (input: HTMLInputElement | null) => {
    if (!input?.files) return;
    add(Array.from(input.files).map((file) => ({ file, path: file.webkitRelativePath || file.name })));
    input.value = "";
  };

  return (
    <div className="create-local">
      <div
        className={`dropzone${over ? " over" : ""}`}
        data-testid="dropzone"
        aria-label="Drop files or folders here"
        role="group"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <p>Drop files or folders here (images, videos, archives, PDF), or</p>
        <div className="row">
          <button type="button" disabled={disabled} onClick={() => files.current?.click()}>
            Choose files…
          </button>
          <button type="button" disabled={disabled} onClick={() => folder.current?.click()}>
            Choose a folder…
          </button>
        </div>
        <input ref={files} className="sr-only" tabIndex={-1} type="file" multiple aria-label="Choose files" onChange={(e) => fromInput(e.currentTarget)} />
        <input
          ref={(el) => {
            folder.current = el;
            el?.setAttribute("webkitdirectory", "");
          }}
          className="sr-only"
          tabIndex={-1}
          type="file"
          multiple
          aria-label="Choose a folder"
          onChange={(e) => fromInput(e.currentTarget)}
        />
      </div>
      {error ? (
        <p role="alert" className="error-banner">
          {error}
        </p>
      ) : null}
      {items.length ? (
        <>
          <table className="grid" aria-label="Chosen files">
            <thead>
              <tr>
                <th>File</th>
                <th>Size</th>
                <th>
                  <span className="sr-only">Remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((item, index) => (
                <tr key={`${item.path}:${item.file.size}`}>
                  <td>{item.path}</td>
                  <td>{formatBytes(item.file.size)}</td>
                  <td>
                    <button type="button" disabled={disabled} aria-label={`Remove ${item.path}`} onClick={() => onChange(items.filter((_, i) => i !== index))}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted">
            {items.length} file{items.length === 1 ? "" : "s"}, {formatBytes(total)} in all.{" "}
            <button type="button" disabled={disabled} onClick={() => onChange([])}>
              Remove all
            </button>
          </p>
          {duplicates.length ? (
            <p role="alert" className="error-banner">
              Files are stored by name, and these names are chosen twice: {duplicates.join(", ")}. Remove one of each.
            </p>
          ) : null}
        </>
      ) : (
        <p className="muted">No files chosen yet.</p>
      )}
    </div>
  );
}
