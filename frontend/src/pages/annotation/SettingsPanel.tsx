// The workspace's settings (a popover of the top bar; kept in localStorage by useWorkspaceSettings):
// playback speed and frame step, deleted frames, autosave, the image's brightness, contrast and
// saturation, and how shapes are drawn (opacity, outline, label text).
import { useState } from "react";
import { PLAY_SPEEDS } from "./player";
import { AUTOSAVE_CHOICES, DEFAULT_SETTINGS, type WorkspaceSettings } from "./useWorkspace";

function Slider({ label, value, min, max, unit, onChange }: { label: string; value: number; min: number; max: number; unit: string; onChange(value: number): void }) {
  return (
    <label className="ws-slider">
      <span>
        {label}: {value}
        {unit}
      </span>
      <input type="range" aria-label={label} min={min} max={max} value={value} onChange={(event) => onChange(Number(event.target.value))} />
    </label>
  );
}

/** A typed frame step: a whole number clamped to 2..1000; null when nothing usable was typed. */
export function parseStep(text: string): number | null {
  const value = Math.floor(Number(text));
  if (text.trim() === "" || !Number.isFinite(value)) return null;
  return Math.min(1000, Math.max(2, value));
}

/** The frame step: a number in range applies as typed, others are clamped on Enter or leaving the field (clamping per keystroke turned "15" into "25"). */
function StepInput({ step, onStep }: { step: number; onStep(step: number): void }) {
  const [draft, setDraft] = useState<string | null>(null);
  const commit = () => {
    if (draft === null) return;
    const next = parseStep(draft);
    setDraft(null);
    if (next !== null && next !== step) onStep(next);
  };
  return (
    <input
      type="number"
      aria-label="Frame step"
      min={2}
      max={1000}
      value={draft ?? String(step)}
      onChange={(event) => {
        // a number already in range applies at once (the popover may close without a blur)
        const text = event.target.value;
        setDraft(text);
        if (parseStep(text) === Number(text) && Number(text) !== step) onStep(Number(text));
      }}
      onBlur={commit}
      onKeyDown={(event) => {
        if (event.key === "Enter") commit();
        if (event.key === "Escape" && draft !== null) {
          event.stopPropagation();
          setDraft(null);
        }
      }}
    />
  );
}

export function SettingsPanel({ settings, taskFps, onChange }: { settings: WorkspaceSettings; taskFps: number; onChange(changes: Partial<WorkspaceSettings>): void }) {
  return (
    <div className="ws-settings">
      <fieldset>
        <legend>Player</legend>
        <label>
          Playback speed
          <select aria-label="Playback speed" value={settings.fps ?? ""} onChange={(event) => onChange({ fps: event.target.value ? Number(event.target.value) : null })}>
            <option value="">The task's ({Math.round(taskFps * 100) / 100} fps)</option>
            {PLAY_SPEEDS.map((fps) => (
              <option key={fps} value={fps}>
                {fps} fps
              </option>
            ))}
          </select>
        </label>
        <label>
          Frame step
          <StepInput step={settings.step} onStep={(step) => onChange({ step })} />
        </label>
        <label className="ws-inline">
          <input type="checkbox" checked={settings.showDeleted} onChange={(event) => onChange({ showDeleted: event.target.checked })} />
          Show deleted frames
        </label>
      </fieldset>
      <fieldset>
        <legend>Saving</legend>
        <label>
          Autosave
          <select aria-label="Autosave" value={settings.autosaveMinutes} onChange={(event) => onChange({ autosaveMinutes: Number(event.target.value) })}>
            {AUTOSAVE_CHOICES.map((m) => (
              <option key={m} value={m}>
                {m === 0 ? "Off" : `Every ${m} min`}
              </option>
            ))}
          </select>
        </label>
      </fieldset>
      <fieldset>
        <legend>Image</legend>
        <Slider label="Brightness" value={settings.brightness} min={0} max={200} unit="%" onChange={(brightness) => onChange({ brightness })} />
        <Slider label="Contrast" value={settings.contrast} min={0} max={200} unit="%" onChange={(contrast) => onChange({ contrast })} />
        <Slider label="Saturation" value={settings.saturation} min={0} max={300} unit="%" onChange={(saturation) => onChange({ saturation })} />
        <button type="button" onClick={() => onChange({ brightness: 100, contrast: 100, saturation: 100 })}>
          Reset image
        </button>
      </fieldset>
      <fieldset>
        <legend>Shapes</legend>
        <Slider label="Opacity" value={settings.opacity} min={0} max={100} unit="%" onChange={(opacity) => onChange({ opacity })} />
        <Slider label="Selected opacity" value={settings.selectedOpacity} min={0} max={100} unit="%" onChange={(selectedOpacity) => onChange({ selectedOpacity })} />
        <Slider label="Outline width" value={settings.outlineWidth} min={1} max={10} unit=" px" onChange={(outlineWidth) => onChange({ outlineWidth })} />
        <label className="ws-inline">
          <input type="checkbox" checked={settings.showText} onChange={(event) => onChange({ showText: event.target.checked })} />
          Show label names
        </label>
        <button
          type="button"
          onClick={() =>
            onChange({ opacity: DEFAULT_SETTINGS.opacity, selectedOpacity: DEFAULT_SETTINGS.selectedOpacity, outlineWidth: DEFAULT_SETTINGS.outlineWidth, showText: DEFAULT_SETTINGS.showText })
          }
        >
          Reset shapes
        </button>
      </fieldset>
    </div>
  );
}
