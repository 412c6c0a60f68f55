// Contracts between the workspace's parts, so they can be built and tested apart: the annotation
// store (store.ts), the saver (save.ts), the frame provider (frames/provider.ts), the key map
// (keys.ts) and the object filter (objectFilter.ts). The React workspace (pages/annotation) uses
// only these.
import type { AnnotationObject, ApiAnnotations, Attributes, FrameObject, KeyShape, LabelSpec, ObjectView, Shape, ShapeType, Tag, Track } from "./model";

// --- the store -------------------------------------------------------------------------------

export interface Geometry {
  points: readonly number[];
  rotation: number;
  elements?: readonly { labelId: number; points: readonly [number, number] | readonly number[]; outside: boolean }[];
}

export interface NewObject {
  kind: "shape" | "track" | "tag";
  type?: ShapeType; // not for tags
  frame: number;
  labelId: number;
  points?: readonly number[];
  rotation?: number;
  elements?: Geometry["elements"];
  attributes?: Attributes; // missing ones take the label's defaults
  occluded?: boolean;
  zOrder?: number; // default: above everything on the frame
  source?: string; // "manual"
}

export type Flag = "occluded" | "outside" | "keyframe";

export interface StoreChange {
  /** the store's version after the change (bumps on every change, undo and redo) */
  version: number;
}

/**
 * The job's annotations in the workspace. Every editing method is one undoable step (or part of
 * the enclosing `transaction`) and returns the affected clientIds. Methods never throw for a
 * clientId that does not exist; they do nothing.
 */
export interface AnnotationStoreApi {
  load(data: ApiAnnotations): void;
  version(): number;
  subscribe(listener: (change: StoreChange) => void): () => void;
  objects(): readonly AnnotationObject[];
  get(clientId: number): AnnotationObject | undefined;
  /** shapes of the frame and tracks interpolated to it (outside ones included, flagged), not tags */
  frameObjects(frame: number): readonly FrameObject[];
  frameTags(frame: number): readonly Tag[];
  labels(): readonly LabelSpec[];

  create(objects: readonly NewObject[]): number[];
  remove(clientIds: readonly number[]): void;
  /** tracks: sets (or makes) the keyframe at `frame` */
  setGeometry(clientId: number, frame: number, geometry: Geometry): void;
  /** mutable attributes of tracks: a keyframe at `frame`; immutable ones and shapes: the object */
  setAttribute(clientId: number, frame: number, specId: number, value: string): void;
  /** attributes reset to the new label's defaults (skeletons keep their elements if the sublabels match) */
  setLabel(clientId: number, labelId: number): void;
  setFlag(clientId: number, frame: number, flag: Flag, value: boolean): void;
  setZOrder(clientId: number, frame: number, zOrder: number): void;
  toFront(clientId: number, frame: number): void;
  toBack(clientId: number, frame: number): void;
  group(clientIds: readonly number[]): void; // a new group id for them
  ungroup(clientIds: readonly number[]): void;
  /** tracks of one label and type into one (keyframes of the others; on a shared frame the first selected wins) */
  mergeTracks(clientIds: readonly number[]): number | null;
  /** a track in two at `frame`: [before, from frame on] */
  splitTrack(clientId: number, frame: number): [number, number] | null;
  /** copies of a shape on the next `count` frames (a frame list: only these frames) */
  propagate(clientId: number, frame: number, frames: readonly number[]): number[];
  /** a shape at `frame` made into a track starting there (and the other way round is not offered, as CVAT) */
  toTrack(clientId: number, frame: number): number | null;
  transaction<T>(name: string, body: () => T): T;

  undo(): string | null; // the undone step's name
  redo(): string | null;
  undoName(): string | null;
  redoName(): string | null;

  /** client-only display state (not saved, not undoable) */
  view(clientId: number): ObjectView;
  setView(clientId: number, view: Partial<ObjectView>): void;
  views(): ReadonlyMap<number, ObjectView>;

  /** what a save would send; empty arrays when nothing changed */
  changes(): SaveDiff;
  hasChanges(): boolean;
  /** after a successful save: server ids for created objects (same order as `diff.create`), baseline = now */
  saved(diff: SaveDiff, created: ApiAnnotations): void;
}

export interface SaveDiff {
  create: ApiAnnotations; // objects without a serverId (version: the loaded version)
  update: ApiAnnotations; // changed objects with their ids (tracks: whole track with its shapes)
  delete: ApiAnnotations; // removed objects: ids (and what CVAT's delete needs)
  /** clientIds of create's tags, shapes, tracks in order (to map the answer's ids back) */
  createdClientIds: { tags: number[]; shapes: number[]; tracks: number[] };
}

/** What a save merged after a 409: counts of objects (see AnnotationStore.rebase). */
export interface MergeReport {
  adopted: number; // others' new objects, now shown here too
  recreated: number; // objects changed here that others had deleted: saved again as new objects
  removed: number; // objects others deleted that were not changed here
}

export type SaveState =
  | { status: "saved"; at: Date | null; merged?: MergeReport }
  | { status: "dirty" }
  | { status: "saving" }
  | { status: "error"; message: string }
  | { status: "conflict"; message: string };

// --- frames ----------------------------------------------------------------------------------

export interface FrameImage {
  frame: number; // the task's frame number
  bitmap: ImageBitmap;
  width: number;
  height: number;
}

export interface FrameProviderApi {
  /** the frame's image, decoded (from cache when it is there) */
  get(frame: number): Promise<FrameImage>;
  /** the frame's image if it is decoded already, without waiting */
  peek(frame: number): FrameImage | null;
  /** the frames the player will show next (in order): fetched and decoded ahead */
  prefetch(frames: readonly number[]): void;
  /** timings for the benchmark: ms from get() to the bitmap, last 200 */
  timings(): number[];
  destroy(): void;
}

// --- keys -----------------------------------------------------------------------------------

export type ActionId = string; // "next_frame", "draw_again", ...

export interface KeyAction {
  id: ActionId;
  name: string; // "Next frame"
  group: string; // "Navigation", "Drawing", "Objects", "Editing", "Review"
  description: string;
  defaults: string[]; // CVAT's default sequences: "f", "ctrl+z", "shift+n", "1"
}

export interface KeyMapApi {
  actions(): readonly KeyAction[];
  bindings(id: ActionId): string[];
  rebind(id: ActionId, keys: string[]): void; // persisted per user
  reset(id?: ActionId): void;
  /** the action a keydown triggers, or null (inputs and textareas never trigger single keys) */
  match(event: KeyboardEvent): ActionId | null;
  conflicts(): { keys: string; actions: ActionId[] }[];
}

// --- the object filter ----------------------------------------------------------------------

/** CVAT's annotation filter (JSON Logic over label, type, shape, occluded, attr.<name>, width, height, serverID, clientID, objectID). */
export type ObjectFilter = (object: FrameObject, labels: ReadonlyMap<number, LabelSpec>) => boolean;

export type { AnnotationObject, KeyShape, Shape, Tag, Track };
