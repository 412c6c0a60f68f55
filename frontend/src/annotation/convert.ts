// CVAT's annotation JSON <-> the workspace's immutable objects. The API lists attributes as
// {spec_id, value} and writes "no group" as null (or 0); the workspace keeps attributes as a map and
// group 0. Server ids travel as `serverId` (also on track keyframes and skeleton elements).
import type {
  AnnotationObject, ApiAnnotations, ApiAttribute, ApiShape, ApiTag, ApiTrack, ApiTrackedShape, Attributes,
  KeyShape, Shape, Tag, Track,
} from "./model";
import { newClientId } from "./model";

export function attributesFromApi(list: readonly ApiAttribute[] | undefined): Attributes {
  const out: Record<number, string> = {};
  for (const a of list ?? []) out[a.spec_id] = a.value;
  return out;
}

export function attributesToApi(attributes: Attributes): ApiAttribute[] {
  return Object.entries(attributes).map(([id, value]) => ({ spec_id: Number(id), value }));
}

export function groupFromApi(group: number | null | undefined): number {
  return group ?? 0;
}

export function groupToApi(group: number): number | null {
  return group > 0 ? group : null;
}

function withId<T extends object>(value: T, id: number | undefined): T & { serverId?: number } {
  return id === undefined ? value : { ...value, serverId: id };
}

/** The fields every labeled object has (the API's label_id, group and source). */
function baseFromApi(o: { label_id: number; group: number | null; source?: string }): { labelId: number; group: number; source: string } {
  return { labelId: o.label_id, group: groupFromApi(o.group), source: o.source ?? "manual" };
}

function baseToApi(o: { labelId: number; group: number; source: string }): { label_id: number; group: number | null; source: string } {
  return { label_id: o.labelId, group: groupToApi(o.group), source: o.source };
}

export function shapeFromApi(s: ApiShape, clientId: number = newClientId()): Shape {
  return withId({
    kind: "shape" as const,
    clientId,
    ...baseFromApi(s),
    type: s.type,
    frame: s.frame,
    points: s.points,
    rotation: s.rotation ?? 0,
    occluded: s.occluded ?? false,
    outside: s.outside ?? false,
    zOrder: s.z_order ?? 0,
    attributes: attributesFromApi(s.attributes),
    elements: (s.elements ?? []).map((e) => shapeFromApi(e)),
  }, s.id);
}

function keyShapeFromApi(s: ApiTrackedShape): KeyShape {
  return withId({
    type: s.type,
    frame: s.frame,
    points: s.points,
    rotation: s.rotation ?? 0,
    occluded: s.occluded ?? false,
    outside: s.outside ?? false,
    zOrder: s.z_order ?? 0,
    attributes: attributesFromApi(s.attributes),
  }, s.id);
}

export function trackFromApi(t: ApiTrack, clientId: number = newClientId()): Track {
  return withId({
    kind: "track" as const,
    clientId,
    ...baseFromApi(t),
    shapes: t.shapes.map(keyShapeFromApi).sort((a, b) => a.frame - b.frame),
    attributes: attributesFromApi(t.attributes),
    elements: (t.elements ?? []).map((e) => trackFromApi(e)),
  }, t.id);
}

export function tagFromApi(t: ApiTag, clientId: number = newClientId()): Tag {
  return withId({
    kind: "tag" as const,
    clientId,
    ...baseFromApi(t),
    frame: t.frame,
    attributes: attributesFromApi(t.attributes),
  }, t.id);
}

/** Every object of the API's answer as workspace objects, each with a new clientId. */
export function fromApi(data: ApiAnnotations): AnnotationObject[] {
  return [
    ...data.tags.map((t) => tagFromApi(t)),
    ...data.shapes.map((s) => shapeFromApi(s)),
    ...data.tracks.map((t) => trackFromApi(t)),
  ];
}

/** The API's object from a workspace object; `ids: false` leaves every id out (a create). */
export function toApiShape(s: Shape, ids = true): ApiShape {
  const out: ApiShape = {
    type: s.type,
    frame: s.frame,
    ...baseToApi(s),
    occluded: s.occluded,
    z_order: s.zOrder,
    rotation: s.rotation,
    points: [...s.points],
    attributes: attributesToApi(s.attributes),
  };
  if (ids && s.serverId !== undefined) out.id = s.serverId;
  if (s.elements.length) out.elements = s.elements.map((e) => ({ ...toApiShape(e, ids), outside: e.outside }));
  return out;
}

function toApiKeyShape(s: KeyShape, ids: boolean): ApiTrackedShape {
  const out: ApiTrackedShape = {
    type: s.type,
    frame: s.frame,
    occluded: s.occluded,
    outside: s.outside,
    z_order: s.zOrder,
    rotation: s.rotation,
    points: [...s.points],
    attributes: attributesToApi(s.attributes),
  };
  if (ids && s.serverId !== undefined) out.id = s.serverId;
  return out;
}

export function toApiTrack(t: Track, ids = true): ApiTrack {
  const out: ApiTrack = {
    frame: t.shapes[0]?.frame ?? 0,
    ...baseToApi(t),
    attributes: attributesToApi(t.attributes),
    shapes: t.shapes.map((s) => toApiKeyShape(s, ids)),
  };
  if (ids && t.serverId !== undefined) out.id = t.serverId;
  if (t.elements.length) out.elements = t.elements.map((e) => toApiTrack(e, ids));
  return out;
}

export function toApiTag(t: Tag, ids = true): ApiTag {
  const out: ApiTag = {
    frame: t.frame,
    ...baseToApi(t),
    attributes: attributesToApi(t.attributes),
  };
  if (ids && t.serverId !== undefined) out.id = t.serverId;
  return out;
}

/**
 * `object` with the server ids of `api` (what a create or an update answered for it): the
 * object's id, skeleton elements' ids (by sublabel), and track keyframes' ids (by frame). Parts
 * that the answer does not hold keep what they had.
 */
export function adoptIds<T extends AnnotationObject>(object: T, api: ApiShape | ApiTrack | ApiTag): T {
  if (object.kind === "shape") return adoptShapeIds(object, api as ApiShape) as T;
  if (object.kind === "track") return adoptTrackIds(object, api as ApiTrack) as T;
  return (api.id === undefined || object.serverId === api.id ? object : { ...object, serverId: api.id }) as T;
}

function adoptShapeIds(shape: Shape, api: ApiShape): Shape {
  const byLabel = new Map((api.elements ?? []).map((e) => [e.label_id, e]));
  const elements = shape.elements.map((e) => {
    const match = byLabel.get(e.labelId);
    return match?.id === undefined || match.id === e.serverId ? e : { ...e, serverId: match.id };
  });
  const changed = api.id !== shape.serverId || elements.some((e, i) => e !== shape.elements[i]);
  return changed ? { ...shape, serverId: api.id ?? shape.serverId, elements } : shape;
}

function adoptTrackIds(track: Track, api: ApiTrack): Track {
  const byFrame = new Map(api.shapes.map((s) => [s.frame, s.id]));
  const shapes = track.shapes.map((s) => {
    const id = byFrame.get(s.frame);
    return id === undefined || id === s.serverId ? s : { ...s, serverId: id };
  });
  const byLabel = new Map((api.elements ?? []).map((e) => [e.label_id, e]));
  const elements = track.elements.map((e) => {
    const match = byLabel.get(e.labelId);
    return match ? adoptTrackIds(e, match) : e;
  });
  const changed = api.id !== track.serverId || shapes.some((s, i) => s !== track.shapes[i])
    || elements.some((e, i) => e !== track.elements[i]);
  return changed ? { ...track, serverId: api.id ?? track.serverId, shapes, elements } : track;
}

/** `object` without any server id (an object to create again). */
export function withoutIds<T extends AnnotationObject>(object: T): T {
  if (object.kind === "shape") return stripShape(object) as T;
  if (object.kind === "track") return stripTrack(object) as T;
  const { serverId: _drop, ...rest } = object;
  return rest as T;
}

function stripShape(shape: Shape): Shape {
  const { serverId: _drop, ...rest } = shape;
  return { ...rest, elements: shape.elements.map(stripShape) };
}

function stripTrack(track: Track): Track {
  const { serverId: _drop, ...rest } = track;
  return {
    ...rest,
    shapes: track.shapes.map(({ serverId: _id, ...s }) => s),
    elements: track.elements.map(stripTrack),
  };
}
