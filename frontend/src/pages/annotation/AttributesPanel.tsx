// The selected object's attributes, one input per CVAT input_type (select, radio, checkbox,
// number with min;max;step from `values`, text). A change is one undoable store step: the store
// puts a track's mutable attribute on a keyframe at the current frame. Text and numbers are
// committed on Enter, on leaving the field, and before a workspace shortcut with Ctrl (Ctrl+S saves
// what was typed), not per keystroke.
import { useState } from "react";
import type { AttributeSpec, Attributes, LabelSpec } from "../../annotation/model";

interface Props {
  clientId: number;
  label: LabelSpec | undefined;
  values: Attributes;
  kind: "shape" | "track" | "tag";
  disabled?: boolean;
  onChange(specId: number, value: string): void;
}

/** A number attribute's [min, max, step] (CVAT's `values`), with safe fallbacks. */
export function numberRange(spec: AttributeSpec): { min: number; max: number; step: number } {
  const [min, max, step] = spec.values.map(Number);
  return {
    min: Number.isFinite(min) ? min! : 0,
    max: Number.isFinite(max) ? max! : Number.MAX_SAFE_INTEGER,
    step: Number.isFinite(step) && step! > 0 ? step! : 1,
  };
}

const TEXT_EDITING_KEYS = new Set(["a", "c", "v", "x", "z", "y", "arrowleft", "arrowright", "home", "end", "backspace", "delete"]);

/** A key pressed in a text or number field that runs a workspace shortcut (Ctrl+S), so the draft must be committed first. */
export function commitsDraft(key: { key: string; ctrlKey: boolean; metaKey: boolean }): boolean {
  return (key.ctrlKey || key.metaKey) && !["Control", "Meta", "Shift", "Alt"].includes(key.key) && !TEXT_EDITING_KEYS.has(key.key.toLowerCase());
}

/** A typed number clamped into the attribute's range and snapped to its step; null when not a number. */
export function clampNumber(spec: AttributeSpec, text: string): string | null {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) return null;
  const { min, max, step } = numberRange(spec);
  const snapped = min + Math.round((value - min) / step) * step;
  const clamped = Math.min(max, Math.max(min, snapped));
  return String(Number(clamped.toFixed(6)));
}

function CommitInput({ spec, value, disabled, onCommit }: { spec: AttributeSpec; value: string; disabled?: boolean; onCommit(value: string): void }) {
  const [draft, setDraft] = useState(value);
  const [seen, setSeen] = useState(value);
  if (seen !== value) {
    setSeen(value);
    setDraft(value);
  }
  const range = spec.input_type === "number" ? numberRange(spec) : null;
  const commit = () => {
    const next = range ? clampNumber(spec, draft) : draft;
    if (next === null) {
      setDraft(value);
      return;
    }
    setDraft(next);
    if (next !== value) onCommit(next);
  };
  return (
    <input
      type={range ? "number" : "text"}
      aria-label={spec.name}
      value={draft}
      disabled={disabled}
      min={range?.min}
      max={range && range.max !== Number.MAX_SAFE_INTEGER ? range.max : undefined}
      step={range?.step}
      onChange={(event) => setDraft(event.target.value)}
      onBlur={commit}
      onKeyDown={(event) => {
        // React's handler runs before the workspace's window listener: the store has the value when Ctrl+S saves
        if (event.key === "Enter" || commitsDraft(event)) commit();
        if (event.key === "Escape") setDraft(value);
      }}
    />
  );
}

function AttributeInput({ spec, value, disabled, onChange }: { spec: AttributeSpec; value: string; disabled?: boolean; onChange(value: string): void }) {
  switch (spec.input_type) {
    case "select":
      return (
        <select aria-label={spec.name} value={value} disabled={disabled} onChange={(event) => onChange(event.target.value)}>
          {spec.values.includes(value) ? null : <option value={value}>{value}</option>}
          {spec.values.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      );
    case "radio":
      return (
        <fieldset className="ws-radio" disabled={disabled}>
          <legend className="sr-only">{spec.name}</legend>
          {spec.values.map((v) => (
            <label key={v}>
              <input type="radio" name={`attr-${spec.id}`} value={v} checked={v === value} onChange={() => onChange(v)} />
              {v}
            </label>
          ))}
        </fieldset>
      );
    case "checkbox":
      return <input type="checkbox" aria-label={spec.name} checked={value === "true"} disabled={disabled} onChange={(event) => onChange(event.target.checked ? "true" : "false")} />;
    default:
      return <CommitInput spec={spec} value={value} disabled={disabled} onCommit={onChange} />;
  }
}

export function AttributesPanel({ clientId, label, values, kind, disabled, onChange }: Props) {
  if (!label) return null;
  if (label.attributes.length === 0) return <p className="muted ws-attrs-empty">The label "{label.name}" has no attributes.</p>;
  return (
    <div className="ws-attrs" role="group" aria-label={`Attributes of object #${clientId}`}>
      {label.attributes.map((spec) => (
        <div key={spec.id} className="ws-attr">
          <span className="ws-attr-name" title={spec.mutable && kind === "track" ? "Changes per frame (a keyframe here)" : undefined}>
            {spec.name}
            {spec.mutable && kind === "track" ? <span className="muted"> (per frame)</span> : null}
          </span>
          <AttributeInput key={`${clientId}-${spec.id}`} spec={spec} value={values[spec.id] ?? spec.default_value} disabled={disabled} onChange={(value) => onChange(spec.id, value)} />
        </div>
      ))}
    </div>
  );
}
