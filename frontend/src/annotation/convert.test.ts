import { describe, expect, it } from "vitest";
import { adoptIds, fromApi, toApiShape, toApiTag, toApiTrack, withoutIds } from "./convert";
import type { ApiAnnotations, Shape, Track } from "./model";

const data: ApiAnnotations = {
  version: 3,
  tags: [{ id: 1, frame: 0, label_id: 4, group: null, source: "manual", attributes: [] }],
  shapes: [
    {
      id: 2, type: "rectangle", frame: 5, label_id: 1, group: 7, source: "auto", occluded: true, z_order: 2,
      rotation: 30, points: [1, 2, 3, 4], attributes: [{ spec_id: 10, value: "red" }],
    },
    {
      id: 3, type: "skeleton", frame: 5, label_id: 3, group: null, source: "manual", occluded: false, z_order: 0,
      rotation: 0, points: [], attributes: [],
      elements: [
        { id: 4, type: "points", frame: 5, label_id: 31, group: null, source: "manual", occluded: false, outside: true, z_order: 0, rotation: 0, points: [1, 1], attributes: [] },
      ],
    },
  ],
  tracks: [{
    id: 5, frame: 2, label_id: 1, group: 0, source: "manual", attributes: [{ spec_id: 10, value: "blue" }],
    shapes: [
      { id: 7, type: "rectangle", frame: 9, occluded: false, outside: true, z_order: 0, rotation: 0, points: [0, 0, 1, 1], attributes: [] },
      { id: 6, type: "rectangle", frame: 2, occluded: false, outside: false, z_order: 0, rotation: 0, points: [0, 0, 1, 1], attributes: [{ spec_id: 11, value: "true" }] },
    ],
  }],
};

describe("fromApi / toApi", () => {
  it("maps attributes to a map, null group to 0, ids to serverId, keyframes sorted", () => {
    const [tag, rect, skeleton, track] = fromApi(data);
    expect(tag).toMatchObject({ kind: "tag", serverId: 1, group: 0, labelId: 4 });
    expect(rect).toMatchObject({ kind: "shape", serverId: 2, group: 7, zOrder: 2, rotation: 30, occluded: true, attributes: { 10: "red" } });
    expect((skeleton as Shape).elements[0]).toMatchObject({ serverId: 4, labelId: 31, outside: true });
    const t = track as Track;
    expect(t.shapes.map((s) => s.frame)).toEqual([2, 9]);
    expect(t.shapes[0]!.attributes).toEqual({ 11: "true" });
    expect(t.group).toBe(0);
    expect(new Set([tag!.clientId, rect!.clientId, skeleton!.clientId, track!.clientId]).size).toBe(4);
  });

  it("round-trips to the API's JSON (group 0 -> null, attributes as a list)", () => {
    const [tag, rect, skeleton, track] = fromApi(data);
    expect(toApiTag(tag as never)).toEqual(data.tags[0]);
    expect(toApiShape(rect as Shape)).toEqual(data.shapes[0]);
    expect(toApiShape(skeleton as Shape)).toEqual(data.shapes[1]);
    const api = toApiTrack(track as Track);
    expect(api.group).toBeNull();
    expect(api.frame).toBe(2);
    expect(api.shapes.map((s) => s.id)).toEqual([6, 7]);
    expect(api.attributes).toEqual([{ spec_id: 10, value: "blue" }]);
  });

  it("leaves every id out for a create", () => {
    const [, , skeleton, track] = fromApi(data);
    const s = toApiShape(skeleton as Shape, false);
    expect(s.id).toBeUndefined();
    expect(s.elements![0]!.id).toBeUndefined();
    expect(toApiTrack(track as Track, false).shapes.every((k) => k.id === undefined)).toBe(true);
    expect(JSON.stringify(toApiTrack(withoutIds(track as Track)))).not.toContain('"id"');
  });

  it("adopts the ids of an answer: elements by sublabel, keyframes by frame", () => {
    const [, , skeleton, track] = fromApi(data).map((o) => withoutIds(o));
    const s = adoptIds(skeleton as Shape, { ...data.shapes[1]!, id: 30, elements: [{ ...data.shapes[1]!.elements![0]!, id: 40 }] });
    expect(s.serverId).toBe(30);
    expect(s.elements[0]!.serverId).toBe(40);
    const t = adoptIds(track as Track, { ...data.tracks[0]!, id: 50 });
    expect(t.serverId).toBe(50);
    expect(t.shapes.map((k) => k.serverId)).toEqual([6, 7]);
  });
});
