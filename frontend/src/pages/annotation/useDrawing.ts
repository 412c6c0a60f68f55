// The workspace's drawing: the toolbar's options (label, rectangle mode, points count, mask tool and
// brush), starting a drawing on the engine (and repeating the last one with N), adding a tag, and
// turning the engine's finished drawing into a new shape or track in the store.
import { useRef, useState, type Dispatch, type RefObject, type SetStateAction } from "react";
import type { CanvasEngine } from "../../annotation/canvas/engine";
import { setBrushSize, setMaskTool } from "../../annotation/canvas/tools";
import { parseSkeletonTemplate } from "../../annotation/canvas/tools/skeletonTemplate";
import type { DrawRequest, EngineEvents } from "../../annotation/canvas/types";
import type { LabelSpec, ShapeType } from "../../annotation/model";
import type { AnnotationStore } from "../../annotation/store";
import { DEFAULT_DRAW_OPTIONS, type DrawKind, type DrawOptions } from "./Toolbar";

interface DrawState {
  type: ShapeType;
  kind: DrawKind;
  labelId: number;
  /** new geometry for this object (a mask painted on, or a redraw), not a new object */
  editing?: { clientId: number; wasHidden: boolean };
}

interface DrawingInput {
  engine: CanvasEngine | null;
  canvasRef: RefObject<HTMLDivElement | null>;
  store: AnnotationStore;
  labels: readonly LabelSpec[];
  labelById: ReadonlyMap<number, LabelSpec>;
  frameRef: RefObject<number>;
  selectObject(id: number | null): void;
  setReviewing(reviewing: boolean): void;
  setPlaying(playing: boolean): void;
  say(text: string): void;
}

export interface Drawing {
  drawOptions: DrawOptions;
  setDrawOptions: Dispatch<SetStateAction<DrawOptions>>;
  /** The shape type being drawn, if any. */
  drawing: ShapeType | null;
  startDraw(type: ShapeType, kind: DrawKind, labelId: number): void;
  /** N: finishes the drawing in progress, else starts the last one again. */
  drawAgain(): void;
  addTag(labelId: number): void;
  /** Paint on an existing mask (brush, eraser, polygon); N finishes, Esc leaves it as it was. */
  editMask(clientId: number): void;
  /** Shift+N (CVAT's redraw): draw the object's shape again on this frame; it keeps its label,
   * attributes and id (a track gets a keyframe); Esc leaves it as it was. */
  redraw(clientId: number): void;
  /** The label of the next drawing. */
  chooseLabel(labelId: number): void;
  events: Pick<EngineEvents, "drawn" | "drawCancelled">;
}

export function useDrawing({ engine, canvasRef, store, labels, labelById, frameRef, selectObject, setReviewing, setPlaying, say }: DrawingInput): Drawing {
  const [drawOptions, setDrawOptions] = useState<DrawOptions>(() => ({ ...DEFAULT_DRAW_OPTIONS, labelId: labels[0]?.id ?? null }));
  const [drawing, setDrawing] = useState<ShapeType | null>(null);
  const drawRef = useRef<DrawState | null>(null);
  const lastDrawRef = useRef<DrawState | null>(null);

  const startDraw = (type: ShapeType, kind: DrawKind, labelId: number) => {
    const label = labelById.get(labelId);
    if (!engine || !label) return;
    if (engine.mode() !== "idle") engine.cancel();
    setReviewing(false);
    setPlaying(false);
    if (type === "mask") {
      setMaskTool(drawOptions.maskTool);
      setBrushSize(drawOptions.brushSize);
    }
    const request: DrawRequest = { type, labelId, color: label.color };
    if (type === "rectangle") request.rectangleBy = drawOptions.rectangleBy;
    if (type === "polygon" || type === "polyline" || type === "points") request.pointsCount = drawOptions.pointsCount[type];
    if (type === "mask") request.brushSize = drawOptions.brushSize;
    if (type === "skeleton") request.skeleton = parseSkeletonTemplate(label.svg, label.sublabels);
    const state: DrawState = { type, kind: type === "mask" ? "shape" : kind, labelId };
    drawRef.current = state;
    lastDrawRef.current = state;
    setDrawing(type);
    setDrawOptions((o) => ({ ...o, labelId }));
    engine.startDraw(request);
    canvasRef.current?.focus();
  };

  const drawAgain = () => {
    if (engine?.mode() === "draw") {
      engine.finishDraw();
      return;
    }
    const last = lastDrawRef.current;
    if (last) startDraw(last.type, last.kind, last.labelId);
    else say("Draw a shape with the toolbar first; N repeats it.");
  };

  const editMask = (clientId: number) => {
    const object = store.get(clientId);
    const label = object ? labelById.get(object.labelId) : undefined;
    if (!engine || !label || object?.kind !== "shape" || object.type !== "mask") return;
    if (engine.mode() !== "idle") engine.cancel();
    setReviewing(false);
    setPlaying(false);
    setMaskTool(drawOptions.maskTool);
    setBrushSize(drawOptions.brushSize);
    // the engine would keep drawing the stored mask under the one being painted: hide it meanwhile
    drawRef.current = { type: "mask", kind: "shape", labelId: label.id, editing: { clientId, wasHidden: !!store.view(clientId).hidden } };
    store.setView(clientId, { hidden: true });
    setDrawing("mask");
    engine.startDraw({ type: "mask", labelId: label.id, color: label.color, brushSize: drawOptions.brushSize, initialMask: object.points });
    canvasRef.current?.focus();
  };

  const redraw = (clientId: number) => {
    const shown = store.frameObjects(frameRef.current).find((o) => o.clientId === clientId && !o.outside);
    const label = shown ? labelById.get(shown.labelId) : undefined;
    if (!engine || !shown || !label) return;
    if (engine.mode() !== "idle") engine.cancel();
    setReviewing(false);
    setPlaying(false);
    const request: DrawRequest = { type: shown.type, labelId: label.id, color: label.color };
    if (shown.type === "rectangle") request.rectangleBy = drawOptions.rectangleBy;
    if (shown.type === "polygon" || shown.type === "polyline" || shown.type === "points") request.pointsCount = drawOptions.pointsCount[shown.type];
    if (shown.type === "mask") {
      setMaskTool(drawOptions.maskTool);
      setBrushSize(drawOptions.brushSize);
      request.brushSize = drawOptions.brushSize;
    }
    if (shown.type === "skeleton") request.skeleton = parseSkeletonTemplate(label.svg, label.sublabels);
    drawRef.current = { type: shown.type, kind: shown.kind, labelId: label.id, editing: { clientId, wasHidden: !!store.view(clientId).hidden } };
    store.setView(clientId, { hidden: true });
    setDrawing(shown.type);
    engine.startDraw(request);
    canvasRef.current?.focus();
  };

  const endEdit = (state: DrawState | null) => {
    if (state?.editing) store.setView(state.editing.clientId, { hidden: state.editing.wasHidden });
  };

  const chooseLabel = (labelId: number) => setDrawOptions((o) => ({ ...o, labelId }));

  const addTag = (labelId: number) => {
    const [id] = store.create([{ kind: "tag", frame: frameRef.current, labelId }]);
    if (id !== undefined) selectObject(id);
    chooseLabel(labelId);
  };

  const events: Pick<EngineEvents, "drawn" | "drawCancelled"> = {
    drawn: (result) => {
      const state = drawRef.current;
      drawRef.current = null;
      setDrawing(null);
      if (state?.editing) {
        endEdit(state);
        store.setGeometry(state.editing.clientId, frameRef.current, { points: result.points, rotation: result.rotation, elements: result.elements });
        selectObject(state.editing.clientId);
        return;
      }
      const kind = state?.kind ?? "shape";
      const [id] = store.create([
        { kind, type: result.type, frame: frameRef.current, labelId: result.labelId, points: result.points, rotation: result.rotation, elements: result.elements },
      ]);
      if (id !== undefined) selectObject(id);
    },
    drawCancelled: () => {
      endEdit(drawRef.current);
      drawRef.current = null;
      setDrawing(null);
    },
  };

  return { drawOptions, setDrawOptions, drawing, startDraw, drawAgain, addTag, editMask, redraw, chooseLabel, events };
}
