// The advanced options of CVAT's create-task form, under CVAT's names.
import { SORTING_METHODS, type AdvancedOptions } from "../../../lib/upload";

type TextKey = "imageQuality" | "chunkSize" | "segmentSize" | "overlap" | "startFrame" | "stopFrame" | "frameStep";
type FlagKey = "useZipChunks" | "useCache" | "copyData";

const NUMBERS: { key: TextKey; label: string; hint: string; min?: number; max?: number }[] = [
  { key: "imageQuality", label: "Image quality", hint: "image_quality, 0-100 (%)", min: 0, max: 100 },
  { key: "chunkSize", label: "Chunk size", hint: "chunk_size, frames per chunk (empty: automatic)", min: 1 },
  { key: "segmentSize", label: "Segment size", hint: "segment_size, frames per job (empty: one job)", min: 1 },
  { key: "overlap", label: "Overlap size", hint: "overlap, frames shared by neighbouring jobs", min: 0 },
  { key: "startFrame", label: "Start frame", hint: "start_frame", min: 0 },
  { key: "stopFrame", label: "Stop frame", hint: "stop_frame", min: 0 },
  { key: "frameStep", label: "Frame step", hint: "frame_filter step=N", min: 1 },
];

const FLAGS: { key: FlagKey; label: string }[] = [
  { key: "useZipChunks", label: "Use zip/video chunks" },
  { key: "useCache", label: "Use cache" },
  { key: "copyData", label: "Copy data (share only)" },
];

const TASK_FIELDS: TextKey[] = ["segmentSize", "overlap"];

/** `taskFields`: segment and overlap sizes are the new task's (POST /api/tasks), not the data's. */
export function AdvancedFields({ value, onChange, disabled, taskFields = true }: { value: AdvancedOptions; onChange(value: AdvancedOptions): void; disabled?: boolean; taskFields?: boolean }) {
  return (
    <details className="card create-advanced">
      <summary>Advanced configuration</summary>
      <div className="create-fields">
        {NUMBERS.filter((field) => taskFields || !TASK_FIELDS.includes(field.key)).map((field) => (
          <label key={field.key}>
            {field.label}
            <input
              type="number"
              inputMode="numeric"
              min={field.min}
              max={field.max}
              disabled={disabled}
              value={value[field.key]}
              onChange={(e) => onChange({ ...value, [field.key]: e.currentTarget.value })}
            />
            <span className="muted hint">{field.hint}</span>
          </label>
        ))}
        <label>
          Sorting method
          <select disabled={disabled} value={value.sortingMethod} onChange={(e) => onChange({ ...value, sortingMethod: e.currentTarget.value as AdvancedOptions["sortingMethod"] })}>
            {SORTING_METHODS.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
          <span className="muted hint">sorting_method</span>
        </label>
        {FLAGS.map((flag) => (
          <label key={flag.key} className="check">
            <input type="checkbox" disabled={disabled} checked={value[flag.key]} onChange={(e) => onChange({ ...value, [flag.key]: e.currentTarget.checked })} />
            {flag.label}
          </label>
        ))}
      </div>
    </details>
  );
}
