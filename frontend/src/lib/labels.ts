// Labels as CVAT's label constructor edits them: validation messages, attribute values as the UI
// writes them, skeleton SVGs, the "Raw" JSON view, and the PATCH body of a project's or task's
// labels (new labels without id, changed ones with id, deleted ones `{"id", "deleted": true}`).
import type { Attribute, Label } from "../api/types";

export const LABEL_TYPES = ["any", "rectangle", "polygon", "polyline", "points", "ellipse", "cuboid", "mask", "tag", "skeleton"] as const;
export const INPUT_TYPES: Attribute["input_type"][] = ["select", "radio", "checkbox", "number", "text"];
export const NAME_MAX = 64;

const PALETTE = ["#fa3253", "#33ddff", "#34d1b7", "#ff6037", "#ddff33", "#24b353", "#b83df5", "#66ff66", "#32b7fa", "#ffcc33", "#83e070", "#fafa37", "#5986b3", "#8c78f0", "#ff6a4d", "#f078f0", "#2a7dd1", "#b25050", "#cc3366", "#cc9933"];

/** A colour for a new label: the first of CVAT's palette that no other label uses. */
export function pickColor(used: Iterable<string | undefined>): string {
  const taken = new Set([...used].filter(Boolean).map((c) => c!.toLowerCase()));
  return PALETTE.find((c) => !taken.has(c)) ?? PALETTE[taken.size % PALETTE.length]!;
}

export function newLabel(name: string, used: Label[]): Label {
  return { name, color: pickColor(used.map((l) => l.color)), type: "any", attributes: [] };
}

export function newAttribute(): Attribute {
  return { name: "", mutable: false, input_type: "select", values: [], default_value: "" };
}

// --- attribute values as the constructor shows them ------------------------------------------

/** The values field's text: "min;max;step" for numbers (CVAT's encoding), "a, b" for choices. */
export function valuesToText(attribute: Attribute): string {
  if (attribute.input_type === "number") return attribute.values.join(";");
  if (attribute.input_type === "select" || attribute.input_type === "radio") return attribute.values.join(", ");
  return attribute.values.join(", ");
}

export function textToValues(inputType: Attribute["input_type"], text: string): string[] {
  if (inputType === "number") return text.split(";").map((v) => v.trim());
  return text
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
}

/** Switching an attribute's input type: values and default that the new type accepts. */
export function withInputType(attribute: Attribute, inputType: Attribute["input_type"]): Attribute {
  switch (inputType) {
    case "checkbox":
      return { ...attribute, input_type: inputType, values: ["false"], default_value: "false" };
    case "number":
      return { ...attribute, input_type: inputType, values: ["0", "100", "1"], default_value: "0" };
    case "text":
      return { ...attribute, input_type: inputType, values: [], default_value: "" };
    default: {
      const keep = attribute.input_type === "select" || attribute.input_type === "radio";
      const values = keep ? attribute.values : [];
      return { ...attribute, input_type: inputType, values, default_value: values[0] ?? "" };
    }
  }
}

function finite(text: string | undefined): number | null {
  if (text === undefined || text.trim() === "") return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** Why an attribute spec would be refused (the API's rules), or null. */
export function attributeProblem(attribute: Attribute): string | null {
  if (!attribute.name.trim()) return "An attribute needs a name.";
  if (attribute.name.length > NAME_MAX) return `An attribute name has at most ${NAME_MAX} characters.`;
  const { values, default_value: def } = attribute;
  switch (attribute.input_type) {
    case "checkbox":
      if (!["true", "false"].includes(def)) return "The default of a checkbox is true or false.";
      return null;
    case "select":
    case "radio":
      if (!values.length || values.some((v) => !v)) return `A ${attribute.input_type} attribute needs values.`;
      if (new Set(values).size !== values.length) return "Attribute values must be unique.";
      if (def && !values.includes(def)) return "The default value must be one of the values.";
      return null;
    case "number": {
      const [low, high, step] = [finite(values[0]), finite(values[1]), finite(values[2])];
      if (values.length !== 3 || low === null || high === null || step === null) return 'A number attribute has values "min;max;step".';
      if (low > high || step <= 0) return "A number attribute needs min <= max and step > 0.";
      const value = def === "" ? low : finite(def);
      if (value === null) return "The default value must be a number.";
      if (value < low || value > high) return "The default value must be within [min, max].";
      return null;
    }
    case "text":
      return values.length > 1 ? "A text attribute has at most one value." : null;
    default:
      return `"${String(attribute.input_type)}" is not an input type.`;
  }
}

/** Why a label would be refused, apart from its attributes' own problems. */
export function labelOwnProblems(label: Label): string[] {
  const problems: string[] = [];
  if (!label.name.trim()) problems.push("A label needs a name.");
  if (label.name.length > NAME_MAX) problems.push(`A label name has at most ${NAME_MAX} characters.`);
  if (label.color && !/^#[0-9a-fA-F]{6}$/.test(label.color)) problems.push("A colour is '#rrggbb'.");
  if (label.type && !(LABEL_TYPES as readonly string[]).includes(label.type)) problems.push(`"${label.type}" is not a label type.`);
  const names = label.attributes.map((a) => a.name.trim());
  if (new Set(names).size !== names.length) problems.push(`Attribute names of label '${label.name}' must be unique.`);
  if (label.type === "skeleton") {
    const points = label.sublabels ?? [];
    if (!points.length) problems.push("A skeleton needs at least one point.");
    const pointNames = points.map((p) => p.name.trim());
    if (pointNames.some((n) => !n)) problems.push("Every point needs a name.");
    if (new Set(pointNames).size !== pointNames.length) problems.push("Point names must be unique.");
  }
  return problems;
}

/** Why a label would be refused, or an empty list. */
export function labelProblems(label: Label): string[] {
  const problems = labelOwnProblems(label);
  for (const attribute of label.attributes) {
    const problem = attributeProblem(attribute);
    if (problem) problems.push(attribute.name ? `${attribute.name}: ${problem}` : problem);
  }
  return problems;
}

/** Every problem of a label list (names unique, each label valid). */
export function validateLabels(labels: Label[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const label of labels) {
    if (label.name && seen.has(label.name)) problems.push(`Label '${label.name}' is there twice.`);
    seen.add(label.name);
    for (const problem of labelProblems(label)) problems.push(label.name ? `${label.name}: ${problem}` : problem);
  }
  return problems;
}

// --- skeletons ----------------------------------------------------------------------------------

export interface SkeletonPoint {
  name: string;
  x?: number;
  y?: number;
}

export interface Skeleton {
  points: Required<SkeletonPoint>[];
  edges: [number, number][]; // 0-based indexes into points
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Points without coordinates go on a circle around the middle of CVAT's 100x100 canvas. */
export function layOut(points: SkeletonPoint[]): Required<SkeletonPoint>[] {
  const n = points.length;
  return points.map((p, i) => {
    if (p.x !== undefined && p.y !== undefined) return { name: p.name, x: p.x, y: p.y };
    const angle = (2 * Math.PI * i) / Math.max(n, 1) - Math.PI / 2;
    return { name: p.name, x: round(50 + 35 * Math.cos(angle)), y: round(50 + 35 * Math.sin(angle)) };
  });
}

function escapeAttr(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function unescapeAttr(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/** CVAT's skeleton SVG: `<line data-type="edge" data-node-from data-node-to>` then one
 * `<circle data-type="element node" data-element-id data-node-id data-label-name>` per point
 * (ids 1-based, in the order of the sublabels); the API turns names into `data-label-id`. */
export function buildSkeletonSvg(points: SkeletonPoint[], edges: [number, number][] = []): string {
  const placed = layOut(points);
  const lines = edges
    .filter(([a, b]) => a !== b && placed[a] && placed[b])
    .map(([a, b]) => {
      const from = placed[a]!;
      const to = placed[b]!;
      return `<line x1="${from.x}" y1="${from.y}" x2="${to.x}" y2="${to.y}" stroke="black" data-type="edge" data-node-from="${a + 1}" stroke-width="0.5" data-node-to="${b + 1}"></line>`;
    });
  const circles = placed.map(
    (p, i) =>
      `<circle r="1.5" stroke="black" fill="#b3b3b3" cx="${p.x}" cy="${p.y}" stroke-width="0.1" data-type="element node" data-element-id="${i + 1}" data-node-id="${i + 1}" data-label-name="${escapeAttr(p.name)}"></circle>`,
  );
  return [...lines, ...circles].join("");
}

function attr(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match ? unescapeAttr(match[1]!) : undefined;
}

/** A skeleton label's points (in sublabel order, with the SVG's coordinates where it has them,
 * matched by `data-label-name` or the API's `data-label-id`) and its edges. */
export function parseSkeleton(label: Pick<Label, "svg" | "sublabels">): Skeleton {
  const sublabels = label.sublabels ?? [];
  const svg = label.svg ?? "";
  const byElement = new Map<string, number>();
  const coords: (SkeletonPoint | undefined)[] = [];
  for (const match of svg.matchAll(/<circle\b[^>]*>/g)) {
    const tag = match[0];
    const name = attr(tag, "data-label-name");
    const id = attr(tag, "data-label-id");
    let index = id === undefined ? -1 : sublabels.findIndex((s) => s.id !== undefined && String(s.id) === id);
    if (index < 0 && name !== undefined) index = sublabels.findIndex((s, i) => s.name === name && !coords[i] && ![...byElement.values()].includes(i));
    if (index < 0) continue;
    const element = attr(tag, "data-element-id");
    if (element !== undefined) byElement.set(element, index);
    const cx = finite(attr(tag, "cx"));
    const cy = finite(attr(tag, "cy"));
    if (cx !== null && cy !== null) coords[index] = { name: sublabels[index]!.name, x: cx, y: cy };
  }
  const edges: [number, number][] = [];
  for (const match of svg.matchAll(/<line\b[^>]*>/g)) {
    const a = byElement.get(attr(match[0], "data-node-from") ?? "");
    const b = byElement.get(attr(match[0], "data-node-to") ?? "");
    if (a !== undefined && b !== undefined && a !== b) edges.push([a, b]);
  }
  return { points: layOut(sublabels.map((s, i) => coords[i] ?? { name: s.name })), edges };
}

/** The SVG with `data-label-name` for every point (what the API expects in a request). */
export function svgWithNames(label: Pick<Label, "svg" | "sublabels">): string {
  const { points, edges } = parseSkeleton(label);
  return buildSkeletonSvg(points, edges);
}

/** Edges as the constructor writes them: "1-2, 2-3" (1-based point numbers). */
export function edgesToText(edges: [number, number][]): string {
  return edges.map(([a, b]) => `${a + 1}-${b + 1}`).join(", ");
}

export function textToEdges(text: string, pointCount: number): { edges: [number, number][]; error: string | null } {
  const edges: [number, number][] = [];
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const match = /^(\d+)\s*-\s*(\d+)$/.exec(part);
    const a = match ? Number(match[1]) : NaN;
    const b = match ? Number(match[2]) : NaN;
    if (!match || a < 1 || b < 1 || a > pointCount || b > pointCount || a === b) {
      return { edges, error: `"${part}" is not an edge between two of the ${pointCount} points (write "1-2, 2-3").` };
    }
    edges.push([a - 1, b - 1]);
  }
  return { edges, error: null };
}

function rebuild(label: Label, sublabels: Label[], points: SkeletonPoint[], edges: [number, number][]): Label {
  const valid = edges.filter(([a, b]) => a !== b && a < points.length && b < points.length);
  return { ...label, sublabels, svg: buildSkeletonSvg(points, valid) };
}

/** Skeleton edits: the SVG is rebuilt each time (coordinates kept for points that stay, new
 * points laid out on the circle, edges to removed points dropped). */
export function addPoint(label: Label, name: string): Label {
  const { points, edges } = parseSkeleton(label);
  return rebuild(label, [...(label.sublabels ?? []), { name, type: "any", attributes: [] }], [...points, { name }], edges);
}

export function removePoint(label: Label, index: number): Label {
  const { points, edges } = parseSkeleton(label);
  const moved = (i: number) => (i > index ? i - 1 : i);
  const kept = edges.filter(([a, b]) => a !== index && b !== index).map(([a, b]) => [moved(a), moved(b)] as [number, number]);
  return rebuild(label, (label.sublabels ?? []).filter((_, i) => i !== index), points.filter((_, i) => i !== index), kept);
}

export function renamePoint(label: Label, index: number, name: string): Label {
  const { points, edges } = parseSkeleton(label);
  const sublabels = (label.sublabels ?? []).map((s, i) => (i === index ? { ...s, name } : s));
  return rebuild(label, sublabels, points.map((p, i) => (i === index ? { ...p, name } : p)), edges);
}

export function setEdges(label: Label, edges: [number, number][]): Label {
  const { points } = parseSkeleton(label);
  return rebuild(label, label.sublabels ?? [], points, edges);
}

/** A label turned into a skeleton (two points to start with) or out of one. */
export function withType(label: Label, type: string): Label {
  if (type === "skeleton" && label.type !== "skeleton") {
    const sublabels: Label[] = [
      { name: "1", type: "any", attributes: [] },
      { name: "2", type: "any", attributes: [] },
    ];
    return { ...label, type, sublabels, svg: buildSkeletonSvg(sublabels, [[0, 1]]) };
  }
  if (type !== "skeleton" && label.type === "skeleton") {
    const { sublabels: _s, svg: _v, ...rest } = label;
    return { ...rest, type };
  }
  return { ...label, type };
}

// --- the API's labels -> the editor's -----------------------------------------------------------

function cleanAttribute(a: Attribute): Attribute {
  const out: Attribute = { name: a.name, mutable: Boolean(a.mutable), input_type: a.input_type, values: [...(a.values ?? [])], default_value: a.default_value ?? "" };
  return a.id !== undefined ? { id: a.id, ...out } : out;
}

/** A label as the editor and the Raw view hold it: only what a request may carry, and a
 * skeleton's SVG with point names. */
export function cleanLabel(label: Label): Label {
  const out: Label = { name: label.name, attributes: (label.attributes ?? []).map(cleanAttribute) };
  if (label.id !== undefined) out.id = label.id;
  if (label.color) out.color = label.color;
  out.type = label.type ?? "any";
  if (label.type === "skeleton") {
    out.sublabels = (label.sublabels ?? []).map((s) => {
      const sub: Label = { name: s.name, attributes: (s.attributes ?? []).map(cleanAttribute), type: s.type ?? "any" };
      if (s.id !== undefined) sub.id = s.id;
      if (s.color) sub.color = s.color;
      return sub;
    });
    out.svg = svgWithNames(label);
  }
  return out;
}

// --- the Raw view -------------------------------------------------------------------------------

export function labelsToRaw(labels: Label[]): string {
  return JSON.stringify(labels.map(cleanLabel), null, 2);
}

export type RawResult = { labels: Label[]; error: null } | { labels: null; error: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function rawAttribute(value: unknown, where: string): Attribute {
  if (!isRecord(value) || typeof value.name !== "string") throw new Error(`${where}: an attribute is an object with a "name".`);
  const inputType = value.input_type ?? "text";
  if (typeof inputType !== "string" || !(INPUT_TYPES as string[]).includes(inputType)) throw new Error(`${where}: "${String(inputType)}" is not an input_type.`);
  if (value.values !== undefined && !(Array.isArray(value.values) && value.values.every((v) => typeof v === "string"))) throw new Error(`${where}: "values" is a list of strings.`);
  const out: Attribute = {
    name: value.name,
    mutable: Boolean(value.mutable),
    input_type: inputType as Attribute["input_type"],
    values: (value.values as string[] | undefined) ?? [],
    default_value: typeof value.default_value === "string" ? value.default_value : "",
  };
  if (typeof value.id === "number") out.id = value.id;
  return out;
}

function rawLabel(value: unknown, where: string): Label {
  if (!isRecord(value) || typeof value.name !== "string") throw new Error(`${where}: a label is an object with a "name".`);
  const attributes = value.attributes ?? [];
  if (!Array.isArray(attributes)) throw new Error(`${where}: "attributes" is a list.`);
  const label: Label = { name: value.name, attributes: attributes.map((a, i) => rawAttribute(a, `${where}, attribute ${i + 1}`)) };
  if (typeof value.id === "number") label.id = value.id;
  if (typeof value.color === "string") label.color = value.color;
  if (value.type !== undefined) {
    if (typeof value.type !== "string" || !(LABEL_TYPES as readonly string[]).includes(value.type)) throw new Error(`${where}: "${String(value.type)}" is not a label type.`);
    label.type = value.type;
  }
  if (value.sublabels !== undefined) {
    if (!Array.isArray(value.sublabels)) throw new Error(`${where}: "sublabels" is a list.`);
    label.sublabels = value.sublabels.map((s, i) => rawLabel(s, `${where}, point ${i + 1}`));
  }
  if (typeof value.svg === "string") label.svg = value.svg;
  if (label.type === "skeleton" && label.sublabels && !label.svg) label.svg = buildSkeletonSvg(label.sublabels);
  return label;
}

/** The Raw view's text back to labels, or why it cannot be read. */
export function rawToLabels(text: string): RawResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { labels: null, error: `Not JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (!Array.isArray(parsed)) return { labels: null, error: "The labels are a JSON list: [ {\"name\": ...}, ... ]." };
  try {
    return { labels: parsed.map((l, i) => rawLabel(l, `Label ${i + 1}`)), error: null };
  } catch (e) {
    return { labels: null, error: e instanceof Error ? e.message : String(e) };
  }
}

// --- PATCH of a project's or task's labels ------------------------------------------------------

export type AttributePatch = Attribute | { id: number; deleted: true };
export interface LabelPatch {
  id?: number;
  name?: string;
  color?: string;
  type?: string;
  attributes?: AttributePatch[];
  sublabels?: LabelPatch[];
  svg?: string;
  deleted?: true;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function attributesPatch(before: Attribute[], after: Attribute[]): AttributePatch[] {
  const out: AttributePatch[] = [];
  const kept = new Set<number>();
  for (const attribute of after.map(cleanAttribute)) {
    const old = attribute.id !== undefined ? before.find((a) => a.id === attribute.id) : undefined;
    if (old) {
      kept.add(old.id!);
      if (!same(cleanAttribute(old), attribute)) out.push(attribute);
    } else {
      const { id: _unused, ...fresh } = attribute;
      out.push(fresh);
    }
  }
  for (const old of before) if (old.id !== undefined && !kept.has(old.id)) out.push({ id: old.id, deleted: true });
  return out;
}

function createPatch(label: Label): LabelPatch {
  const clean = cleanLabel(label);
  const out: LabelPatch = { name: clean.name, type: clean.type, attributes: clean.attributes.map(({ id: _unused, ...a }) => a) };
  if (clean.color) out.color = clean.color;
  if (clean.type === "skeleton") {
    out.sublabels = (clean.sublabels ?? []).map((s) => createPatch({ ...s, type: s.type === "skeleton" ? "any" : s.type }));
    out.svg = clean.svg;
  }
  return out;
}

function updatePatch(before: Label, after: Label): LabelPatch | null {
  const old = cleanLabel(before);
  const now = cleanLabel(after);
  if (same(old, now)) return null;
  const out: LabelPatch = { id: old.id! };
  if (now.name !== old.name) out.name = now.name;
  if (now.color && now.color !== old.color) out.color = now.color;
  if (now.type !== old.type) out.type = now.type;
  const attributes = attributesPatch(old.attributes, now.attributes);
  if (attributes.length) out.attributes = attributes;
  if (now.type === "skeleton" && old.type === "skeleton") {
    const subs: LabelPatch[] = [];
    const kept = new Set<number>();
    for (const sub of now.sublabels ?? []) {
      const was = sub.id !== undefined ? old.sublabels?.find((s) => s.id === sub.id) : undefined;
      if (was) {
        kept.add(was.id!);
        const change = updatePatch(was, sub);
        if (change) subs.push(change);
      } else subs.push(createPatch({ ...sub, type: "any" }));
    }
    for (const was of old.sublabels ?? []) if (was.id !== undefined && !kept.has(was.id)) subs.push({ id: was.id, deleted: true });
    if (subs.length) out.sublabels = subs;
    if (now.svg !== old.svg || subs.length) out.svg = now.svg;
  }
  return out;
}

/** The `labels` of a PATCH that turns `before` (the server's) into `after` (the editor's). */
export function labelsPatch(before: Label[], after: Label[]): LabelPatch[] {
  const out: LabelPatch[] = [];
  const kept = new Set<number>();
  for (const label of after) {
    const old = label.id !== undefined ? before.find((l) => l.id === label.id) : undefined;
    if (old) {
      kept.add(old.id!);
      const change = updatePatch(old, label);
      if (change) out.push(change);
    } else out.push(createPatch(label));
  }
  for (const old of before) if (old.id !== undefined && !kept.has(old.id)) out.push({ id: old.id, deleted: true });
  return out;
}
