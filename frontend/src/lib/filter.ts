// CVAT's list filter language: a JSON Logic expression in the `filter` query parameter, e.g.
// {"and":[{"==":[{"var":"status"},"annotation"]},{"in":["car",{"var":"name"}]}]}. The UI builds
// it from rows of (field, operator, value); the server checks fields and operators.

export type Operator = "==" | "!=" | "<" | "<=" | ">" | ">=" | "in";

export interface Condition {
  field: string;
  op: Operator;
  value: string;
}

export interface FieldSpec {
  name: string;
  label: string;
  kind: "text" | "number" | "choice" | "date";
  choices?: string[];
}

export const OPERATORS: Record<FieldSpec["kind"], Operator[]> = {
  text: ["==", "!=", "in"],
  number: ["==", "!=", "<", "<=", ">", ">="],
  choice: ["==", "!="],
  date: ["<", "<=", ">", ">="],
};

type Logic = Record<string, unknown>;

function term(condition: Condition, spec: FieldSpec | undefined): Logic | null {
  const raw = condition.value.trim();
  if (!raw) return null;
  let value: string | number = raw;
  if (spec?.kind === "number") {
    const parsed = Number(raw);
    if (!Number.isFinite(parsed)) return null;
    value = parsed;
  }
  const variable = { var: condition.field };
  // "in" is CVAT's substring test: {"in": [needle, {"var": field}]}
  if (condition.op === "in") return { in: [String(value), variable] };
  return { [condition.op]: [variable, value] };
}

/** The `filter` parameter for the complete conditions, or "" when there are none. */
export function buildFilter(conditions: Condition[], fields: FieldSpec[], join: "and" | "or" = "and"): string {
  const byName = new Map(fields.map((f) => [f.name, f]));
  const terms = conditions.map((c) => term(c, byName.get(c.field))).filter((t): t is Logic => t !== null);
  if (terms.length === 0) return "";
  return JSON.stringify({ [join]: terms });
}

/** How a `filter` parameter joins its conditions ("and" unless it says "or"). */
export function filterJoin(filter: string): "and" | "or" {
  try {
    return filter && Object.keys(JSON.parse(filter) as Logic)[0] === "or" ? "or" : "and";
  } catch {
    return "and";
  }
}

/** The conditions a `filter` parameter holds, when the UI could have built it; [] otherwise. */
export function parseFilter(filter: string): Condition[] {
  if (!filter) return [];
  try {
    const logic = JSON.parse(filter) as Logic;
    const [join] = Object.keys(logic);
    const terms = join === "and" || join === "or" ? (logic[join] as Logic[]) : [logic];
    return terms.flatMap((t): Condition[] => {
      const [op] = Object.keys(t) as Operator[];
      if (!op) return [];
      const args = t[op] as unknown[];
      if (op === "in") {
        const [needle, variable] = args as [string, { var: string }];
        return [{ field: variable.var, op, value: String(needle) }];
      }
      const [variable, value] = args as [{ var: string }, string | number];
      return [{ field: variable.var, op, value: String(value) }];
    });
  } catch {
    return [];
  }
}
