// The left toolbar: a button per shape type and one for tags, each opening a small popover with
// CVAT's draw options (label, Shape or Track, rectangle by 2 or 4 points, number of points, mask
// tool and brush size); then zoom and the multi-object actions (group, ungroup, merge, split).
// `Popover` is shared by the top bar's menus.
import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import { labelsForShape } from "../../annotation/labels";
import type { LabelSpec, ShapeType } from "../../annotation/model";
import type { MaskTool } from "../../annotation/canvas/tools";

export interface DrawOptions {
  labelId: number | null; // the label for the next drawing (number keys change it)
  rectangleBy: "2points" | "4points";
  pointsCount: Record<"polygon" | "polyline" | "points", number>;
  maskTool: MaskTool;
  brushSize: number;
}

export const DEFAULT_DRAW_OPTIONS: DrawOptions = {
  labelId: null,
  rectangleBy: "2points",
  pointsCount: { polygon: 0, polyline: 0, points: 0 },
  maskTool: "brush",
  brushSize: 10,
};

export type DrawKind = "shape" | "track";

/** CVAT draws tracks of these types; masks (and tags) are shapes only. */
export function canTrack(type: ShapeType): boolean {
  return type !== "mask";
}

/** The fewest points a polygon-like shape takes (a count below it, other than 0, is raised to it). */
export function minPoints(type: "polygon" | "polyline" | "points"): number {
  return type === "polygon" ? 3 : type === "polyline" ? 2 : 1;
}

const TOOLS: { type: ShapeType; name: string; glyph: string }[] = [
  { type: "rectangle", name: "Rectangle", glyph: "▭" },
  { type: "polygon", name: "Polygon", glyph: "⬠" },
  { type: "polyline", name: "Polyline", glyph: "∿" },
  { type: "points", name: "Points", glyph: "⁘" },
  { type: "ellipse", name: "Ellipse", glyph: "◯" },
  { type: "cuboid", name: "Cuboid", glyph: "▣" },
  { type: "mask", name: "Mask", glyph: "▦" },
  { type: "skeleton", name: "Skeleton", glyph: "⚲" },
];

/** A button with a popover beside it; Escape or a click outside closes it. */
export function Popover({ name, glyph, active, children, side = "right", className }: { name: string; glyph?: ReactNode; active?: boolean; side?: "right" | "below" | "below-end"; className?: string; children: (close: () => void) => ReactNode }) {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const id = useId();
  useEffect(() => {
    if (!open) return;
    const onDown = (event: PointerEvent) => {
      if (box.current && !box.current.contains(event.target as Node)) setOpen(false);
    };
    window.addEventListener("pointerdown", onDown);
    return () => window.removeEventListener("pointerdown", onDown);
  }, [open]);
  return (
    // Escape closes it from its own button too (the focus stays there after opening it with the mouse)
    <div
      className={`ws-popover-anchor ${className ?? ""}`}
      ref={box}
      onKeyDown={(event) => {
        if (open && event.key === "Escape") {
          event.stopPropagation();
          setOpen(false);
        }
      }}
    >
      <button
        type="button"
        className={`ws-tool${active ? " active" : ""}`}
        aria-label={name}
        title={name}
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        onClick={() => setOpen((o) => !o)}
      >
        {glyph ?? name}
      </button>
      {open ? (
        <div
          id={id}
          className={`ws-popover ws-popover-${side}`}
          role="dialog"
          aria-label={`${name} options`}
        >
          {children(() => setOpen(false))}
        </div>
      ) : null}
    </div>
  );
}

function LabelSelect({ labels, value, onChange }: { labels: readonly LabelSpec[]; value: number | null; onChange(id: number): void }) {
  const current = labels.some((l) => l.id === value) ? value : (labels[0]?.id ?? null);
  return (
    <label>
      Label
      <select value={current ?? ""} onChange={(event) => onChange(Number(event.target.value))} disabled={labels.length === 0}>
        {labels.length === 0 ? <option value="">No label for this type</option> : null}
        {labels.map((l) => (
          <option key={l.id} value={l.id}>
            {l.name}
          </option>
        ))}
      </select>
    </label>
  );
}

function DrawPopoverBody({ type, labels, options, onOptions, onDraw, close }: { type: ShapeType; labels: readonly LabelSpec[]; options: DrawOptions; onOptions(o: Partial<DrawOptions>): void; onDraw(type: ShapeType, kind: DrawKind, labelId: number): void; close(): void }) {
  const allowed = labelsForShape(labels, type);
  const labelId = allowed.some((l) => l.id === options.labelId) ? options.labelId : (allowed[0]?.id ?? null);
  const draw = (kind: DrawKind) => {
    if (labelId === null) return;
    close();
    onDraw(type, kind, labelId);
  };
  return (
    <div className="ws-draw-form">
      <LabelSelect labels={allowed} value={labelId} onChange={(id) => onOptions({ labelId: id })} />
      {type === "rectangle" ? (
        <label>
          Drawing method
          <select value={options.rectangleBy} onChange={(event) => onOptions({ rectangleBy: event.target.value as DrawOptions["rectangleBy"] })}>
            <option value="2points">By 2 points</option>
            <option value="4points">By 4 points</option>
          </select>
        </label>
      ) : null}
      {type === "polygon" || type === "polyline" || type === "points" ? (
        <label>
          Number of points (0: free)
          <input
            type="number"
            min={0}
            value={options.pointsCount[type]}
            onChange={(event) => {
              const n = Math.max(0, Math.floor(Number(event.target.value) || 0));
              onOptions({ pointsCount: { ...options.pointsCount, [type]: n === 0 ? 0 : Math.max(minPoints(type), n) } });
            }}
          />
        </label>
      ) : null}
      {type === "mask" ? (
        <>
          <fieldset className="ws-radio">
            <legend>Tool</legend>
            {(["brush", "eraser", "polygon"] as const).map((tool) => (
              <label key={tool}>
                <input type="radio" name="mask-tool" checked={options.maskTool === tool} onChange={() => onOptions({ maskTool: tool })} />
                {tool === "brush" ? "Brush" : tool === "eraser" ? "Eraser" : "Polygon"}
              </label>
            ))}
          </fieldset>
          <label>
            Brush size: {options.brushSize} px
            <input type="range" min={1} max={100} value={options.brushSize} onChange={(event) => onOptions({ brushSize: Number(event.target.value) })} />
          </label>
        </>
      ) : null}
      <div className="actions">
        {type === "mask" ? (
          <button type="button" className="primary" disabled={labelId === null} onClick={() => draw("shape")}>
            Draw
          </button>
        ) : (
          <>
            <button type="button" className="primary" disabled={labelId === null} onClick={() => draw("shape")}>
              Shape
            </button>
            {canTrack(type) ? (
              <button type="button" disabled={labelId === null} onClick={() => draw("track")}>
                Track
              </button>
            ) : null}
          </>
        )}
      </div>
    </div>
  );
}

function TagPopoverBody({ labels, options, onOptions, onTag, close }: { labels: readonly LabelSpec[]; options: DrawOptions; onOptions(o: Partial<DrawOptions>): void; onTag(labelId: number): void; close(): void }) {
  const allowed = labelsForShape(labels, "tag");
  const labelId = allowed.some((l) => l.id === options.labelId) ? options.labelId : (allowed[0]?.id ?? null);
  return (
    <div className="ws-draw-form">
      <LabelSelect labels={allowed} value={labelId} onChange={(id) => onOptions({ labelId: id })} />
      <div className="actions">
        <button
          type="button"
          className="primary"
          disabled={labelId === null}
          onClick={() => {
            if (labelId === null) return;
            close();
            onTag(labelId);
          }}
        >
          Add tag
        </button>
      </div>
    </div>
  );
}

export interface ToolbarProps {
  labels: readonly LabelSpec[];
  options: DrawOptions;
  onOptions(o: Partial<DrawOptions>): void;
  drawing: ShapeType | null;
  onDraw(type: ShapeType, kind: DrawKind, labelId: number): void;
  onTag(labelId: number): void;
  onZoom(direction: 1 | -1 | 0): void; // 0: fit
  onGroup(): void;
  onUngroup(): void;
  onMerge(): void;
  onSplit(): void;
}

export function Toolbar(props: ToolbarProps) {
  return (
    <nav className="ws-toolbar" aria-label="Tools">
      {TOOLS.map((tool) => (
        <Popover key={tool.type} name={tool.name} glyph={tool.glyph} active={props.drawing === tool.type}>
          {(close) => <DrawPopoverBody type={tool.type} labels={props.labels} options={props.options} onOptions={props.onOptions} onDraw={props.onDraw} close={close} />}
        </Popover>
      ))}
      <Popover name="Tag" glyph="Tag">
        {(close) => <TagPopoverBody labels={props.labels} options={props.options} onOptions={props.onOptions} onTag={props.onTag} close={close} />}
      </Popover>
      <hr />
      <button type="button" className="ws-tool" aria-label="Zoom in" title="Zoom in" onClick={() => props.onZoom(1)}>
        +
      </button>
      <button type="button" className="ws-tool" aria-label="Zoom out" title="Zoom out" onClick={() => props.onZoom(-1)}>
        −
      </button>
      <button type="button" className="ws-tool" aria-label="Fit" title="Fit the image" onClick={() => props.onZoom(0)}>
        ⤢
      </button>
      <hr />
      <button type="button" className="ws-tool" aria-label="Group" title="Group the selected objects (G)" onClick={props.onGroup}>
        ⊞
      </button>
      <button type="button" className="ws-tool" aria-label="Ungroup" title="Remove the selected objects from their group (Shift+G)" onClick={props.onUngroup}>
        ⊟
      </button>
      <button type="button" className="ws-tool" aria-label="Merge" title="Merge the selected tracks (M)" onClick={props.onMerge}>
        ⋈
      </button>
      <button type="button" className="ws-tool" aria-label="Split" title="Split the selected track at this frame (Alt+M)" onClick={props.onSplit}>
        ✂
      </button>
    </nav>
  );
}
