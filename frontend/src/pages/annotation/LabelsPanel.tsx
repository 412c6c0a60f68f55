// The labels tab of the sidebar: every label with its colour, its shortcut (Ctrl+1..Ctrl+0 as
// CVAT), how many objects of it are on the frame, a button to draw with it next, and switches to
// hide or lock all of its objects on the frame.
import { useMemo } from "react";
import type { FrameObject, LabelSpec } from "../../annotation/model";

interface Props {
  labels: readonly LabelSpec[];
  objects: readonly FrameObject[]; // the frame's objects
  current: number | null; // the label for the next drawing
  hidden(labelId: number): boolean; // every object of the label on the frame is hidden
  locked(labelId: number): boolean;
  onUse(labelId: number): void;
  onHide(labelId: number, hidden: boolean): void;
  onLock(labelId: number, locked: boolean): void;
}

/** "Ctrl+1" for the first label ... "Ctrl+0" for the tenth; none after. */
export function labelShortcut(index: number): string | null {
  return index < 10 ? `Ctrl+${(index + 1) % 10}` : null;
}

export function LabelsPanel({ labels, objects, current, hidden, locked, onUse, onHide, onLock }: Props) {
  const counts = useMemo(() => {
    const out = new Map<number, number>();
    for (const o of objects) out.set(o.labelId, (out.get(o.labelId) ?? 0) + 1);
    return out;
  }, [objects]);
  if (labels.length === 0) return <p className="empty">The job has no labels.</p>;
  return (
    <ul className="ws-labels" aria-label="Labels">
      {labels.map((label, index) => {
        const isHidden = hidden(label.id);
        const isLocked = locked(label.id);
        const shortcut = labelShortcut(index);
        return (
          <li key={label.id} className={current === label.id ? "current" : undefined}>
            <span className="ws-swatch" style={{ background: label.color }} aria-hidden="true" />
            <span className="ws-label-name">
              {label.name} <span className="muted">({label.type})</span>
            </span>
            <span className="muted">{counts.get(label.id) ?? 0}</span>
            {shortcut ? <kbd title="Shortcut">{shortcut}</kbd> : null}
            <button type="button" aria-pressed={current === label.id} aria-label={`Draw with ${label.name}`} title="Use for the next drawing" onClick={() => onUse(label.id)}>
              ✎
            </button>
            <button type="button" aria-pressed={isHidden} aria-label={`Hide all ${label.name}`} title="Hide or show the label's objects on this frame" onClick={() => onHide(label.id, !isHidden)}>
              Hide
            </button>
            <button type="button" aria-pressed={isLocked} aria-label={`Lock all ${label.name}`} title="Lock or unlock the label's objects on this frame" onClick={() => onLock(label.id, !isLocked)}>
              Lock
            </button>
          </li>
        );
      })}
    </ul>
  );
}
