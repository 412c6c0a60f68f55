import { describe, expect, it } from "vitest";
import { buildSkeletonSvg } from "../../../lib/labels";
import { parseSkeletonTemplate, skeletonElements, templateEdgesFor } from "./skeletonTemplate";

const API_SVG =
  '<line x1="20" y1="20" x2="80" y2="80" stroke="black" data-type="edge" data-node-from="1" stroke-width="0.5" data-node-to="2"></line>' +
  '<line x1="80" y1="80" x2="20" y2="80" data-type="edge" data-node-from="2" data-node-to="3"></line>' +
  '<circle r="1.5" cx="20" cy="20" data-type="element node" data-element-id="1" data-node-id="1" data-label-id="11"></circle>' +
  '<circle r="1.5" cx="80" cy="80" data-type="element node" data-element-id="2" data-node-id="2" data-label-id="12"></circle>' +
  '<circle r="1.5" cx="20" cy="80" data-type="element node" data-element-id="3" data-node-id="3" data-label-id="13"></circle>';

describe("parseSkeletonTemplate", () => {
  it("reads the API's nodes (label ids, coordinates) and edges between element ids", () => {
    const t = parseSkeletonTemplate(API_SVG);
    expect(t.nodes).toEqual([
      { labelId: 11, x: 20, y: 20 },
      { labelId: 12, x: 80, y: 80 },
      { labelId: 13, x: 20, y: 80 },
    ]);
    expect(t.edges).toEqual([
      [0, 1],
      [1, 2],
    ]);
  });

  it("resolves the labels editor's data-label-name through the sublabels", () => {
    const svg = buildSkeletonSvg([{ name: "head", x: 50, y: 10 }, { name: "tail", x: 50, y: 90 }], [[0, 1]]);
    const t = parseSkeletonTemplate(svg, [
      { id: 7, name: "tail" },
      { id: 5, name: "head" },
    ]);
    expect(t.nodes).toEqual([
      { labelId: 5, x: 50, y: 10 },
      { labelId: 7, x: 50, y: 90 },
    ]);
    expect(t.edges).toEqual([[0, 1]]);
  });

  it("leaves out nodes it cannot label and edges to them", () => {
    const svg = '<circle cx="1" cy="2" data-element-id="1" data-label-name="ghost"></circle><circle cx="3" cy="4" data-element-id="2" data-label-id="9"></circle><line data-node-from="1" data-node-to="2"></line>';
    const t = parseSkeletonTemplate(svg);
    expect(t.nodes).toEqual([{ labelId: 9, x: 3, y: 4 }]);
    expect(t.edges).toEqual([]);
  });
});

describe("skeletonElements", () => {
  it("scales the template's node box into the dragged box", () => {
    const els = skeletonElements(parseSkeletonTemplate(API_SVG), [100, 200, 160, 230]);
    expect(els).toEqual([
      { labelId: 11, points: [100, 200], outside: false },
      { labelId: 12, points: [160, 230], outside: false },
      { labelId: 13, points: [100, 230], outside: false },
    ]);
  });

  it("centres a template with a single node", () => {
    const els = skeletonElements({ nodes: [{ labelId: 1, x: 30, y: 30 }], edges: [] }, [0, 0, 10, 20]);
    expect(els[0]!.points).toEqual([5, 10]);
  });
});

describe("templateEdgesFor", () => {
  it("maps template edges onto a skeleton's elements by sublabel, whatever their order", () => {
    const t = parseSkeletonTemplate(API_SVG);
    expect(templateEdgesFor(t, [{ labelId: 13 }, { labelId: 12 }, { labelId: 11 }])).toEqual([
      [2, 1],
      [1, 0],
    ]);
    expect(templateEdgesFor(t, [{ labelId: 11 }, { labelId: 12 }])).toEqual([[0, 1]]);
  });
});
