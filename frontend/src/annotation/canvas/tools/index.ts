// The canvas's draw and edit tools, one entry point for the engine (which tool draws a shape type,
// which edits an object, the review region) and for the toolbar (the mask tool and brush size).
import type { FrameObject, ShapeType } from "../../model";
import type { DrawRequest, DrawResult, DrawTool, EditTool, SkeletonTemplate, ToolHost } from "../types";
import { cuboidEditTool, cuboidTool } from "./cuboid";
import { transformEditTool } from "./edit";
import { ellipseTool } from "./ellipse";
import { maskEditTool, maskSettings, maskTool, type MaskTool } from "./mask";
import { polyEditTool, polyTool } from "./poly";
import { rectangleBy4PointsTool, rectangleTool, regionDrawTool } from "./rectangle";
import { skeletonEditTool, skeletonTool } from "./skeleton";
import { templateEdgesFor } from "./skeletonTemplate";

export type { MaskTool } from "./mask";
export { parseSkeletonTemplate, skeletonElements, templateEdgesFor } from "./skeletonTemplate";

/** The toolbar's mask tool; it applies to the mask being drawn now, too. */
export function setMaskTool(tool: MaskTool): void {
  maskSettings.tool = tool;
  maskSettings.onChange?.();
}

/** The brush and eraser diameter in image pixels (at least 1). */
export function setBrushSize(px: number): void {
  maskSettings.brushSize = Math.max(1, Math.round(px));
  maskSettings.onChange?.();
}

export function getMaskSettings(): { tool: MaskTool; brushSize: number } {
  return { tool: maskSettings.tool, brushSize: maskSettings.brushSize };
}

let templateOf: (labelId: number) => SkeletonTemplate | undefined = () => undefined;
/**
 * How the skeleton edit tool finds a skeleton label's template (for drawing its edges and dragging
 * by them). The workspace sets it when labels load; without it skeletons are edited by nodes and box.
 */
export function setSkeletonTemplates(lookup: (labelId: number) => SkeletonTemplate | undefined): void {
  templateOf = lookup;
}

function skeletonEdges(object: FrameObject): [number, number][] {
  const template = templateOf(object.labelId);
  return template ? templateEdgesFor(template, object.elements) : [];
}

/** Picks the rectangle method from the request when drawing starts. */
function rectangleDraw(): DrawTool {
  let inner: DrawTool | null = null;
  return {
    start(host: ToolHost, request: DrawRequest, done: (result: DrawResult | null) => void) {
      inner = request.rectangleBy === "4points" ? rectangleBy4PointsTool() : rectangleTool();
      inner.start(host, request, done);
    },
    finish: () => inner?.finish() ?? false,
    undoPoint: () => inner?.undoPoint?.() ?? false,
    destroy() {
      inner?.destroy();
      inner = null;
    },
  };
}

export function drawToolFor(type: ShapeType): DrawTool {
  switch (type) {
    case "rectangle":
      return rectangleDraw();
    case "polygon":
    case "polyline":
    case "points":
      return polyTool(type);
    case "ellipse":
      return ellipseTool();
    case "cuboid":
      return cuboidTool();
    case "mask":
      return maskTool();
    case "skeleton":
      return skeletonTool();
  }
}

/** The tool that edits the object, or null where it cannot be edited on this frame (outside). */
export function editToolFor(object: FrameObject): EditTool | null {
  if (object.outside) return null;
  switch (object.type) {
    case "rectangle":
    case "ellipse":
      return transformEditTool(object.type);
    case "polygon":
    case "polyline":
    case "points":
      return polyEditTool(object.type);
    case "cuboid":
      return cuboidEditTool();
    case "mask":
      return maskEditTool();
    case "skeleton":
      return skeletonEditTool(skeletonEdges);
  }
}

/** A rectangle dragged out (review issues): result type "rectangle". */
export function regionTool(): DrawTool {
  return regionDrawTool();
}
