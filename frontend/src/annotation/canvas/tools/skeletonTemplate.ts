// A skeleton label's template, read from CVAT's label `svg`: one `<circle data-type="element node"
// data-element-id data-label-id cx cy>` per sublabel (the API writes data-label-id; the labels
// editor writes data-label-name before a save) and `<line data-type="edge" data-node-from
// data-node-to>` between element ids. Coordinates stay in the template's 0..100 space; the
// skeleton draw tool scales them into the box the user drags.
import type { SkeletonTemplate } from "../types";
import { fitTemplate, type Rect } from "./shapesMath";

function attr(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"`).exec(tag) ?? new RegExp(`\\s${name}\\s*=\\s*'([^']*)'`).exec(tag);
  if (!match) return undefined;
  return match[1]!.replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function num(value: string | undefined): number | null {
  if (value === undefined || value.trim() === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/**
 * The template's nodes (in the SVG's order) and edges (indexes into nodes). `sublabels` resolves
 * nodes that carry only `data-label-name`; nodes whose label cannot be found are left out, and so
 * are edges to them.
 */
export function parseSkeletonTemplate(svg: string, sublabels: readonly { id: number; name: string }[] = []): SkeletonTemplate {
  const nodes: SkeletonTemplate["nodes"] = [];
  const byElement = new Map<string, number>();
  for (const match of svg.matchAll(/<circle\b[^>]*>/gi)) {
    const tag = match[0];
    let labelId = num(attr(tag, "data-label-id"));
    if (labelId === null) {
      const name = attr(tag, "data-label-name");
      labelId = sublabels.find((s) => s.name === name)?.id ?? null;
    }
    const x = num(attr(tag, "cx"));
    const y = num(attr(tag, "cy"));
    if (labelId === null || x === null || y === null) continue;
    const element = attr(tag, "data-element-id") ?? attr(tag, "data-node-id");
    if (element !== undefined) byElement.set(element, nodes.length);
    nodes.push({ labelId, x, y });
  }
  const edges: [number, number][] = [];
  for (const match of svg.matchAll(/<line\b[^>]*>/gi)) {
    const a = byElement.get(attr(match[0], "data-node-from") ?? "");
    const b = byElement.get(attr(match[0], "data-node-to") ?? "");
    if (a !== undefined && b !== undefined && a !== b) edges.push([a, b]);
  }
  return { nodes, edges };
}

export interface SkeletonElementResult {
  labelId: number;
  points: [number, number];
  outside: boolean;
}

/** A skeleton drawn as a box: every template node scaled into it, none outside. */
export function skeletonElements(template: SkeletonTemplate, rect: Rect): SkeletonElementResult[] {
  return fitTemplate(template.nodes, rect).map((p, i) => ({ labelId: template.nodes[i]!.labelId, points: [p.x, p.y], outside: false }));
}

/** The template's edges as indexes into a skeleton's elements (matched by sublabel id). */
export function templateEdgesFor(template: SkeletonTemplate, elements: readonly { labelId: number }[]): [number, number][] {
  const index = new Map(elements.map((e, i) => [e.labelId, i] as const));
  const out: [number, number][] = [];
  for (const [a, b] of template.edges) {
    const ia = index.get(template.nodes[a]?.labelId ?? -1);
    const ib = index.get(template.nodes[b]?.labelId ?? -1);
    if (ia !== undefined && ib !== undefined) out.push([ia, ib]);
  }
  return out;
}
