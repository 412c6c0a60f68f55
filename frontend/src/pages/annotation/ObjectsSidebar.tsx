// The objects sidebar: the current frame's objects and tags in a virtualised list (only the
// visible rows are React components), the filter box (CVAT's simple syntax or JSON Logic), counts,
// sorting, and the selected object's actions and attributes below the list.
import { useMemo } from "react";
import type { AnnotationStoreApi } from "../../annotation/contracts";
import { labelsForShape } from "../../annotation/labels";
import type { FrameObject, LabelSpec, ObjectView, Tag } from "../../annotation/model";
import { VirtualList } from "../../components/VirtualList";
import { AttributesPanel } from "./AttributesPanel";
import { ObjectItem, ROW_HEIGHT, type ObjectActions, type ObjectRowData } from "./ObjectItem";

export type ObjectCommand = "delete" | "copy" | "paste" | "front" | "back" | "propagate" | "to_track" | "split" | "group" | "ungroup" | "merge" | "edit_mask";
export type SortBy = "id" | "z_order" | "label";

interface Props {
  store: AnnotationStoreApi;
  version: number;
  objects: readonly FrameObject[]; // the frame's objects that pass the filter (and outside ones only if shown)
  tags: readonly Tag[];
  onFrameCount: number; // before the filter
  labels: readonly LabelSpec[];
  labelById: ReadonlyMap<number, LabelSpec>;
  selected: number | null;
  selection: ReadonlySet<number>;
  actions: ObjectActions;
  onCommand(command: ObjectCommand): void;
  onAttribute(clientId: number, specId: number, value: string): void;
  canPaste: boolean;
  filterText: string;
  filterError: string | null;
  onFilter(text: string): void;
  showOutside: boolean;
  onShowOutside(on: boolean): void;
  sortBy: SortBy;
  onSort(sort: SortBy): void;
}

/** The rows in the chosen order: objects, then tags (CVAT lists tags with the objects). */
export function sortRows(rows: ObjectRowData[], objects: ReadonlyMap<number, FrameObject>, sortBy: SortBy, labelName: (id: number) => string): ObjectRowData[] {
  const objectRows = rows.filter((r) => r.kind !== "tag");
  const tagRows = rows.filter((r) => r.kind === "tag");
  const byId = (a: ObjectRowData, b: ObjectRowData) => a.clientId - b.clientId;
  const compare =
    sortBy === "z_order"
      ? (a: ObjectRowData, b: ObjectRowData) => (objects.get(b.clientId)?.zOrder ?? 0) - (objects.get(a.clientId)?.zOrder ?? 0) || byId(a, b)
      : sortBy === "label"
        ? (a: ObjectRowData, b: ObjectRowData) => labelName(a.labelId).localeCompare(labelName(b.labelId)) || byId(a, b)
        : byId;
  return [...objectRows.sort(compare), ...tagRows.sort(byId)];
}

function rowOf(o: FrameObject, serverId: number | undefined, color: string, view: ObjectView): ObjectRowData {
  return { clientId: o.clientId, serverId, kind: o.kind, type: o.type, labelId: o.labelId, color, occluded: o.occluded, outside: o.outside, keyframe: o.keyframe, view };
}

const COMMANDS: { command: ObjectCommand; label: string; title: string; tracksOnly?: boolean; shapesOnly?: boolean; masksOnly?: boolean }[] = [
  { command: "edit_mask", label: "Edit mask", title: "Paint on the mask: brush, eraser (Shift), polygon; N finishes, Esc leaves it", masksOnly: true },
  { command: "delete", label: "Delete object", title: "Delete (Del; Shift+Del: even locked)" },
  { command: "copy", label: "Copy", title: "Copy (Ctrl+C)" },
  { command: "front", label: "To front", title: "Put in front of the others (z order)" },
  { command: "back", label: "To back", title: "Put behind the others (z order)" },
  { command: "propagate", label: "Propagate", title: "Copy to the next frames (Ctrl+B)", shapesOnly: true },
  { command: "to_track", label: "To track", title: "Make the shape a track starting here", shapesOnly: true },
  { command: "split", label: "Split track", title: "Split the track at this frame", tracksOnly: true },
];

export function ObjectsSidebar(props: Props) {
  const { store, version, objects, tags, labels, labelById, selected, selection, actions, sortBy } = props;
  const colorOf = (id: number) => labelById.get(id)?.color ?? "#888";
  const labelsByType = useMemo(() => {
    const cache = new Map<string, LabelSpec[]>();
    return (type: ObjectRowData["type"]) => {
      let found = cache.get(type);
      if (!found) {
        found = labelsForShape(labels, type);
        cache.set(type, found);
      }
      return found;
    };
  }, [labels]);
  const rows = useMemo(() => {
    const byId = new Map(objects.map((o) => [o.clientId, o]));
    const list: ObjectRowData[] = objects.map((o) => rowOf(o, store.get(o.clientId)?.serverId, colorOf(o.labelId), store.view(o.clientId)));
    for (const t of tags) {
      list.push({ clientId: t.clientId, serverId: t.serverId, kind: "tag", type: "tag", labelId: t.labelId, color: colorOf(t.labelId), occluded: false, outside: false, keyframe: true, view: {} });
    }
    return sortRows(list, byId, sortBy, (id) => labelById.get(id)?.name ?? "");
    // version: the store's objects or views changed
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [objects, tags, sortBy, store, labelById, version]);
  const selectedIndex = selected === null ? -1 : rows.findIndex((r) => r.clientId === selected);
  const selectedRow = selectedIndex >= 0 ? rows[selectedIndex] : undefined;
  const selectedObject = selected !== null ? objects.find((o) => o.clientId === selected) : undefined;
  const selectedTag = selectedRow?.kind === "tag" ? tags.find((t) => t.clientId === selected) : undefined;
  const attributeValues = selectedObject?.attributes ?? selectedTag?.attributes ?? {};
  const shown = objects.length;
  return (
    <section className="ws-objects" aria-label="Objects">
      <div className="ws-objects-head">
        <label className="ws-filter">
          <span className="sr-only">Filter objects</span>
          <input
            type="search"
            aria-label="Filter objects"
            placeholder='Filter: label=="car" && width>50, or JSON Logic'
            value={props.filterText}
            aria-invalid={props.filterError ? true : undefined}
            aria-describedby={props.filterError ? "ws-filter-error" : undefined}
            onChange={(event) => props.onFilter(event.target.value)}
          />
        </label>
        {props.filterError ? (
          <p id="ws-filter-error" className="ws-filter-error" role="alert">
            {props.filterError}
          </p>
        ) : null}
        <div className="ws-objects-tools">
          <span className="muted" aria-live="polite">
            {shown === props.onFrameCount ? `${shown} object${shown === 1 ? "" : "s"}` : `${shown} of ${props.onFrameCount} objects`}
            {tags.length ? `, ${tags.length} tag${tags.length === 1 ? "" : "s"}` : ""}
          </span>
          <label className="ws-inline">
            <input type="checkbox" checked={props.showOutside} onChange={(event) => props.onShowOutside(event.target.checked)} />
            Show outside
          </label>
          <label className="ws-inline">
            <select aria-label="Sort objects" value={sortBy} onChange={(event) => props.onSort(event.target.value as SortBy)}>
              <option value="id">Sort by id</option>
              <option value="z_order">Sort by z order</option>
              <option value="label">Sort by label</option>
            </select>
          </label>
        </div>
      </div>
      <div className="ws-objects-list">
        {rows.length === 0 ? (
          <p className="empty">{props.onFrameCount ? "No object passes the filter." : "No objects on this frame."}</p>
        ) : (
          <VirtualList
            items={rows}
            rowHeight={ROW_HEIGHT}
            height="fill"
            getKey={(row: ObjectRowData) => row.clientId}
            scrollToIndex={selectedIndex >= 0 ? selectedIndex : undefined}
            ariaLabel="Objects on this frame"
            render={(row: ObjectRowData) => (
              <ObjectItem row={row} labels={labelsByType(row.type)} selected={row.clientId === selected} inSelection={selection.has(row.clientId)} actions={actions} />
            )}
          />
        )}
      </div>
      <div className="ws-selected" aria-label="Selected object" role="region">
        <div className="ws-selected-head">
          <strong>{selectedRow ? `Object #${selectedRow.clientId}` : selection.size > 1 ? `${selection.size} objects selected` : "No object selected"}</strong>
          {selection.size > 1 ? <span className="muted"> ({selection.size} selected; Ctrl+click adds or removes)</span> : null}
        </div>
        <div className="ws-command-bar" role="toolbar" aria-label="Object actions">
          {COMMANDS.filter((c) => !(c.tracksOnly && selectedRow?.kind !== "track") && !(c.shapesOnly && selectedRow?.kind !== "shape") && !(c.masksOnly && selectedRow?.type !== "mask")).map((c) => (
            <button key={c.command} type="button" title={c.title} disabled={!selectedRow} onClick={() => props.onCommand(c.command)} className={c.command === "delete" ? "danger-text" : undefined}>
              {c.label}
            </button>
          ))}
          <button type="button" title="Paste the copied object on this frame (Ctrl+V)" disabled={!props.canPaste} onClick={() => props.onCommand("paste")}>
            Paste
          </button>
        </div>
        {selectedRow ? (
          <AttributesPanel
            key={selectedRow.clientId}
            clientId={selectedRow.clientId}
            label={labelById.get(selectedRow.labelId)}
            values={attributeValues}
            kind={selectedRow.kind}
            disabled={!!selectedRow.view.locked}
            onChange={(specId, value) => props.onAttribute(selectedRow.clientId, specId, value)}
          />
        ) : null}
      </div>
    </section>
  );
}
