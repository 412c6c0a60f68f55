// The job's labels as the workspace uses them: CVAT's label list (GET /api/labels?job_id=) made
// into a tree of LabelSpec (skeleton points as sublabels, whether the API nests them or lists them
// flat with parent_id), the attribute defaults CVAT gives a new object, and the labels a shape
// type may take.
import type { Attribute, Label } from "../api/types";
import type { AttributeSpec, LabelSpec, ShapeType } from "./model";

const FALLBACK_COLORS = ["#33ddff", "#fa3253", "#34d1b7", "#ff007c", "#ddff33", "#24b353", "#b83df5", "#66ff66"];

function attributeSpec(a: Attribute): AttributeSpec {
  return {
    id: a.id ?? 0,
    name: a.name,
    mutable: a.mutable,
    input_type: a.input_type,
    default_value: a.default_value ?? "",
    values: [...(a.values ?? [])],
  };
}

function spec(label: Label, index: number): LabelSpec {
  return {
    id: label.id ?? 0,
    name: label.name,
    color: label.color || FALLBACK_COLORS[index % FALLBACK_COLORS.length]!,
    type: label.type || "any",
    attributes: label.attributes.map(attributeSpec),
    sublabels: [],
    svg: label.svg ?? "",
    parent_id: label.parent_id ?? null,
  };
}

/** Top-level labels with their sublabels, in the API's order; each label id once. */
export function labelSpecs(labels: readonly Label[]): LabelSpec[] {
  const byId = new Map<number, LabelSpec>();
  const parentOf = new Map<number, number>();
  let index = 0;
  const visit = (label: Label, parent: number | null): void => {
    const id = label.id ?? 0;
    if (!byId.has(id)) byId.set(id, spec(label, index++));
    const p = label.parent_id ?? parent;
    if (p !== null && p !== undefined) parentOf.set(id, p);
    for (const sub of label.sublabels ?? []) visit(sub, id);
  };
  for (const label of labels) visit(label, null);
  const roots: LabelSpec[] = [];
  for (const [id, s] of byId) {
    const parent = parentOf.get(id);
    const parentSpec = parent === undefined ? undefined : byId.get(parent);
    if (parentSpec) {
      s.parent_id = parent;
      parentSpec.sublabels.push(s);
    } else {
      roots.push(s);
    }
  }
  return roots;
}

/** CVAT's initial value of an attribute: its default_value when that is one of its values (or any, for text and number), else its first value. */
export function defaultValue(attribute: AttributeSpec): string {
  const { default_value: dv, values, input_type: kind } = attribute;
  if (kind === "text") return dv !== "" ? dv : values[0] ?? "";
  if (kind === "number") return dv !== "" ? dv : values[0] ?? "0";
  if (kind === "checkbox") return dv === "true" || dv === "false" ? dv : values[0] ?? "false";
  return dv !== "" && (values.length === 0 || values.includes(dv)) ? dv : values[0] ?? dv;
}

/** Every attribute of the label at its default (spec id -> value). */
export function defaultAttributes(label: LabelSpec): Record<number, string> {
  const out: Record<number, string> = {};
  for (const a of label.attributes) out[a.id] = defaultValue(a);
  return out;
}

/** The labels a shape of `type` may take: type "any" or the same type (tags: "tag" or "any"). */
export function labelsForShape(labels: readonly LabelSpec[], type: ShapeType | "tag"): LabelSpec[] {
  if (type === "skeleton") return labels.filter((l) => l.type === "skeleton");
  return labels.filter((l) => l.type === "any" || l.type === type);
}

/** Every label and sublabel by id. */
export function labelIndex(labels: readonly LabelSpec[]): Map<number, LabelSpec> {
  const out = new Map<number, LabelSpec>();
  const visit = (l: LabelSpec): void => {
    out.set(l.id, l);
    l.sublabels.forEach(visit);
  };
  labels.forEach(visit);
  return out;
}
