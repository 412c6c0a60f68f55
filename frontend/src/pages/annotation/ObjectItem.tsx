// One row of the objects sidebar (a fixed height: the list is virtualised): the object's colour,
// ids, label, type and its switches (lock, hide, occluded, pin; outside, keyframe and keyframe
// navigation for tracks), delete. The row itself is focusable: Enter or Space selects it,
// Ctrl+Enter adds it to the selection (groups and merges).
import { memo, type KeyboardEvent, type MouseEvent } from "react";
import type { Flag } from "../../annotation/contracts";
import type { LabelSpec, ObjectView, ShapeType } from "../../annotation/model";

export const ROW_HEIGHT = 62;

export interface ObjectRowData {
  clientId: number;
  serverId?: number;
  kind: "shape" | "track" | "tag";
  type: ShapeType | "tag";
  labelId: number;
  color: string;
  occluded: boolean;
  outside: boolean;
  keyframe: boolean;
  view: ObjectView;
}

export interface ObjectActions {
  select(clientId: number, additive: boolean): void;
  setLabel(clientId: number, labelId: number): void;
  setView(clientId: number, view: Partial<ObjectView>): void;
  setFlag(clientId: number, flag: Flag, value: boolean): void;
  keyframe(clientId: number, direction: -1 | 1): void;
  remove(clientId: number, force: boolean): void;
}

/** "rectangle shape", "polygon track", "tag". */
export function typeText(row: Pick<ObjectRowData, "kind" | "type">): string {
  return row.kind === "tag" ? "tag" : `${row.type} ${row.kind}`;
}

interface Props {
  row: ObjectRowData;
  labels: readonly LabelSpec[]; // the labels this object may take
  selected: boolean;
  inSelection: boolean; // one of several selected (Ctrl+click)
  actions: ObjectActions;
}

function Toggle({ on, label, glyph, onToggle, disabled }: { on: boolean; label: string; glyph: string; onToggle(): void; disabled?: boolean }) {
  return (
    <button
      type="button"
      className={`ws-icon${on ? " on" : ""}`}
      aria-label={label}
      aria-pressed={on}
      title={label}
      disabled={disabled}
      onClick={(event) => {
        event.stopPropagation();
        onToggle();
      }}
    >
      {glyph}
    </button>
  );
}

function ObjectItemImpl({ row, labels, selected, inSelection, actions }: Props) {
  const id = row.clientId;
  const name = `#${id}`;
  const locked = !!row.view.locked;
  const onKey = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.target !== event.currentTarget) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      actions.select(id, event.ctrlKey || event.metaKey);
    }
  };
  const onClick = (event: MouseEvent<HTMLDivElement>) => {
    const target = event.target as HTMLElement;
    if (target.closest("button, select, input")) return;
    actions.select(id, event.ctrlKey || event.metaKey);
  };
  return (
    <div
      className={`ws-object${selected ? " selected" : ""}${inSelection ? " in-selection" : ""}${row.outside ? " outside" : ""}`}
      role="group"
      aria-label={`Object ${name}`}
      aria-current={selected ? "true" : undefined}
      tabIndex={0}
      data-client-id={id}
      onKeyDown={onKey}
      onClick={onClick}
    >
      <div className="ws-object-line">
        <span className="ws-swatch" style={{ background: row.color }} aria-hidden="true" />
        <span className="ws-object-id">
          {name}
          {row.serverId !== undefined ? <span className="muted"> id {row.serverId}</span> : null}
        </span>
        <select aria-label={`Label of object ${name}`} value={row.labelId} disabled={locked} onChange={(event) => actions.setLabel(id, Number(event.target.value))}>
          {labels.some((l) => l.id === row.labelId) ? null : <option value={row.labelId}>label {row.labelId}</option>}
          {labels.map((label) => (
            <option key={label.id} value={label.id}>
              {label.name}
            </option>
          ))}
        </select>
        <span className="ws-object-type muted">{typeText(row)}</span>
      </div>
      <div className="ws-object-line ws-object-buttons">
        {row.kind !== "tag" ? (
          <>
            <Toggle on={locked} label={`Lock object ${name}`} glyph="Lock" onToggle={() => actions.setView(id, { locked: !locked })} />
            <Toggle on={!!row.view.hidden} label={`Hide object ${name}`} glyph="Hide" onToggle={() => actions.setView(id, { hidden: !row.view.hidden })} />
            <Toggle on={row.occluded} label={`Occluded object ${name}`} glyph="Occl" disabled={locked} onToggle={() => actions.setFlag(id, "occluded", !row.occluded)} />
            <Toggle on={!!row.view.pinned} label={`Pin object ${name}`} glyph="Pin" onToggle={() => actions.setView(id, { pinned: !row.view.pinned })} />
          </>
        ) : null}
        {row.kind === "track" ? (
          <>
            <Toggle on={row.outside} label={`Outside object ${name}`} glyph="Out" disabled={locked} onToggle={() => actions.setFlag(id, "outside", !row.outside)} />
            <Toggle on={row.keyframe} label={`Keyframe of object ${name}`} glyph="Key" disabled={locked} onToggle={() => actions.setFlag(id, "keyframe", !row.keyframe)} />
            <button type="button" className="ws-icon" aria-label={`Previous keyframe of object ${name}`} title="Previous keyframe" onClick={() => actions.keyframe(id, -1)}>
              ◀K
            </button>
            <button type="button" className="ws-icon" aria-label={`Next keyframe of object ${name}`} title="Next keyframe" onClick={() => actions.keyframe(id, 1)}>
              K▶
            </button>
          </>
        ) : null}
        <span className="spacer" />
        <button type="button" className="ws-icon danger-text" aria-label={`Delete ${name}`} title="Delete" onClick={() => actions.remove(id, false)}>
          ✕
        </button>
      </div>
    </div>
  );
}

/** A row re-renders only when its own data changes (rows are rebuilt per store version: compare fields). */
export const ObjectItem = memo(ObjectItemImpl, (a, b) => a.selected === b.selected && a.inSelection === b.inSelection && a.labels === b.labels && a.actions === b.actions && sameRow(a.row, b.row));

function sameRow(a: ObjectRowData, b: ObjectRowData): boolean {
  return (
    a.clientId === b.clientId &&
    a.serverId === b.serverId &&
    a.labelId === b.labelId &&
    a.color === b.color &&
    a.kind === b.kind &&
    a.type === b.type &&
    a.occluded === b.occluded &&
    a.outside === b.outside &&
    a.keyframe === b.keyframe &&
    !!a.view.locked === !!b.view.locked &&
    !!a.view.hidden === !!b.view.hidden &&
    !!a.view.pinned === !!b.view.pinned
  );
}
