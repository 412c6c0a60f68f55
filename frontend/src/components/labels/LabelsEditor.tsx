// The labels editor of project and task forms (CVAT's "Raw" and "Constructor" views).
// Placeholder interface while issue 13 is built: the projects helper replaces the body.
import type { Label } from "../../api/types";

export interface LabelsEditorProps {
  value: Label[];
  onChange(labels: Label[]): void;
  /** labels that already exist on the server cannot be renamed to a taken name or lose their id */
  disabled?: boolean;
}

export function LabelsEditor({ value, onChange, disabled }: LabelsEditorProps) {
  return (
    <label>
      Labels (comma-separated)
      <input
        aria-label="Labels"
        disabled={disabled}
        value={value.map((l) => l.name).join(", ")}
        onChange={(e) =>
          onChange(
            e.target.value
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean)
              .map((name) => ({ name, attributes: [] })),
          )
        }
      />
    </label>
  );
}
