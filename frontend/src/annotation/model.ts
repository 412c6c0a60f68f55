// The annotation workspace's object model: CVAT's annotation JSON as the API sends it (`Api*`), and
// the objects the workspace edits (`Shape`, `Track`, `Tag`). Workspace objects are immutable
// values: an edit replaces an object with a new one, so undo/redo and "what changed since the last
// save" are comparisons of references, never deep walks of big jobs.
//
// Ids: `clientId` is the workspace's own id (unique in the page, never sent); `serverId` is the
// API's `id` once the object has been saved. Attributes are a map spec_id -> value.

export type ShapeType = "rectangle" | "polygon" | "polyline" | "points" | "ellipse" | "cuboid" | "mask" | "skeleton";
export const SHAPE_TYPES: readonly ShapeType[] = ["rectangle", "polygon", "polyline", "points", "ellipse", "cuboid", "mask", "skeleton"];
export type Source = "manual" | "semi-auto" | "auto" | "file" | "consensus";

// --- the API's JSON (GET/PUT/PATCH /api/jobs/{id}/annotations) -------------------------------

export interface ApiAttribute {
  spec_id: number;
  value: string;
}

export interface ApiShape {
  id?: number;
  type: ShapeType;
  frame: number;
  label_id: number;
  group: number | null;
  source: string;
  occluded: boolean;
  outside?: boolean; // skeleton elements only
  z_order: number;
  rotation: number;
  points: number[];
  attributes: ApiAttribute[];
  elements?: ApiShape[];
}

export interface ApiTrackedShape {
  id?: number;
  type: ShapeType;
  frame: number;
  occluded: boolean;
  outside: boolean;
  z_order: number;
  rotation: number;
  points: number[];
  attributes: ApiAttribute[];
}

export interface ApiTrack {
  id?: number;
  frame: number;
  label_id: number;
  group: number | null;
  source: string;
  attributes: ApiAttribute[];
  shapes: ApiTrackedShape[];
  elements?: ApiTrack[];
}

export interface ApiTag {
  id?: number;
  frame: number;
  label_id: number;
  group: number | null;
  source: string;
  attributes: ApiAttribute[];
}

export interface ApiAnnotations {
  version: number;
  tags: ApiTag[];
  shapes: ApiShape[];
  tracks: ApiTrack[];
}

// --- workspace objects ------------------------------------------------------------------------

export type Attributes = Readonly<Record<number, string>>;

interface Base {
  readonly clientId: number;
  readonly serverId?: number;
  readonly labelId: number;
  readonly group: number; // 0: no group (the API's null)
  readonly source: string;
}

/** A shape on one frame. Skeletons carry one element per sublabel of the skeleton label. */
export interface Shape extends Base {
  readonly kind: "shape";
  readonly type: ShapeType;
  readonly frame: number;
  readonly points: readonly number[];
  readonly rotation: number; // degrees, [0, 360)
  readonly occluded: boolean;
  readonly outside: boolean; // meaningful for skeleton elements only
  readonly zOrder: number;
  readonly attributes: Attributes;
  readonly elements: readonly Shape[];
}

/** One keyframe of a track (the API's TrackedShape). `attributes` are the mutable ones. */
export interface KeyShape {
  readonly serverId?: number;
  readonly type: ShapeType;
  readonly frame: number;
  readonly points: readonly number[];
  readonly rotation: number;
  readonly occluded: boolean;
  readonly outside: boolean;
  readonly zOrder: number;
  readonly attributes: Attributes;
}

/** A track: keyframes sorted by frame, immutable attributes on the track itself. */
export interface Track extends Base {
  readonly kind: "track";
  readonly shapes: readonly KeyShape[];
  readonly attributes: Attributes;
  readonly elements: readonly Track[]; // skeleton tracks: one per sublabel
}

export interface Tag extends Base {
  readonly kind: "tag";
  readonly frame: number;
  readonly attributes: Attributes;
}

export type AnnotationObject = Shape | Track | Tag;

/**
 * What the canvas draws for an object on one frame: a shape as it is, a track interpolated to the
 * frame. `elements` are a skeleton's points (each with its sublabel).
 */
export interface FrameObject {
  readonly clientId: number;
  readonly kind: "shape" | "track";
  readonly type: ShapeType;
  readonly labelId: number;
  readonly points: readonly number[];
  readonly rotation: number;
  readonly occluded: boolean;
  readonly outside: boolean;
  readonly zOrder: number;
  readonly keyframe: boolean; // shapes: always true
  readonly attributes: Attributes; // immutable + mutable in effect on this frame
  readonly elements: readonly FrameElement[];
  readonly group: number;
}

export interface FrameElement {
  readonly labelId: number;
  readonly type: ShapeType; // "points" for skeleton elements
  readonly points: readonly number[];
  readonly occluded: boolean;
  readonly outside: boolean;
}

/** Client-only display state of an object (CVAT does not save these). */
export interface ObjectView {
  locked?: boolean;
  hidden?: boolean;
  pinned?: boolean;
}

// --- labels as the workspace needs them ------------------------------------------------------

export interface AttributeSpec {
  id: number;
  name: string;
  mutable: boolean;
  input_type: "select" | "radio" | "checkbox" | "number" | "text";
  default_value: string;
  values: string[];
}

export interface LabelSpec {
  id: number;
  name: string;
  color: string;
  type: string; // "any" or a ShapeType or "tag"
  attributes: AttributeSpec[];
  sublabels: LabelSpec[]; // skeletons
  svg: string; // skeletons: the template (CVAT's `<circle data-label-id=... cx cy>` and `<line data-node-from data-node-to>`)
  parent_id?: number | null;
}

let nextClientId = 1;
/** A new workspace id (unique within the page). */
export function newClientId(): number {
  return nextClientId++;
}
