// CVAT's annotation filter: JSON Logic over an object's label, type, shape, occluded flag, size,
// ids and attributes, which the workspace uses to show only some objects and to find the next
// frame with matching ones. CVAT's UI builds the JSON with a query builder; here it can also be
// typed as text (`label == "car" && occluded`), turned into the same JSON by `parseSimpleFilter`.
//
// The operators are those the server's list filter takes (domain/query.py): and, or, !, !!, var,
// ==, !=, <, <=, >, >= (and the 3-argument "between" forms), in (a list, or a substring). A value
// is coerced to its field's type as the server does ("true" for a boolean, "5" for a number); a
// bare `var` is JSON Logic's truthiness, as CVAT's UI evaluates these filters with json-logic-js.
import type { ObjectFilter } from "./contracts";
import type { AttributeSpec, FrameObject, LabelSpec } from "./model";

export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FilterError";
  }
}

type Kind = "string" | "number" | "boolean";

/** The fields a filter may name, besides `attr.<label>.<attribute>` and `attr.<attribute>`. */
export const FILTER_FIELDS: Readonly<Record<string, Kind>> = {
  label: "string",
  type: "string", // "shape" | "track"
  shape: "string", // rectangle, polygon...
  occluded: "boolean",
  width: "number",
  height: "number",
  rotation: "number",
  serverID: "number",
  objectID: "number", // CVAT's name for the client id
  clientID: "number",
};

type Scalar = string | number | boolean | null;

// --- what a filter sees of an object -----------------------------------------------------------

/** An object's width and height as CVAT's filter measures them (null without points). */
export function objectSize(object: Pick<FrameObject, "type" | "points" | "elements">): { width: number; height: number } | null {
  const points = object.type === "skeleton" ? object.elements.flatMap((e) => [...e.points]) : object.points;
  if (object.type === "mask") {
    if (points.length < 4) return null;
    const [xtl, ytl, xbr, ybr] = points.slice(-4) as [number, number, number, number];
    return { width: xbr - xtl + 1, height: ybr - ytl + 1 };
  }
  if (object.type === "ellipse") {
    const [cx, cy, rx, ry] = points as readonly (number | undefined)[];
    if (cx === undefined || cy === undefined || rx === undefined || ry === undefined) return null;
    return { width: Math.abs(rx - cx) * 2, height: Math.abs(cy - ry) * 2 };
  }
  if (points.length < 2) return null;
  let [x1, y1, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 0; i + 1 < points.length; i += 2) {
    const x = points[i] as number;
    const y = points[i + 1] as number;
    x1 = Math.min(x1, x);
    x2 = Math.max(x2, x);
    y1 = Math.min(y1, y);
    y2 = Math.max(y2, y);
  }
  return { width: x2 - x1, height: y2 - y1 };
}

/** CVAT writes a dot in a label or attribute name as "∙" so that `attr.a.b` stays unambiguous. */
function adjustName(name: string): string {
  return name.replace(/\./g, "\u2219");
}

function attributeValue(spec: AttributeSpec, value: string): Scalar {
  if (spec.input_type === "number") return Number(value);
  if (spec.input_type === "checkbox") return value === "true";
  return value;
}

/** The value of a field for one object (computed when the filter asks for it). */
class Row {
  private size: { width: number; height: number } | null | undefined;

  constructor(
    readonly object: FrameObject,
    private readonly labels: ReadonlyMap<number, LabelSpec>,
  ) {}

  get(name: string): Scalar {
    const o = this.object;
    switch (name) {
      case "label":
        return this.labels.get(o.labelId)?.name ?? null;
      case "type":
        return o.kind;
      case "shape":
        return o.type;
      case "occluded":
        return o.occluded;
      case "width":
        return this.dimensions()?.width ?? null;
      case "height":
        return this.dimensions()?.height ?? null;
      case "rotation":
        return o.type === "rectangle" || o.type === "ellipse" ? o.rotation : null;
      case "serverID": {
        // not part of FrameObject; taken when the caller's objects carry it
        const id = (o as { serverId?: unknown }).serverId;
        return typeof id === "number" ? id : null;
      }
      case "objectID":
      case "clientID":
        return o.clientId;
      default:
        return name.startsWith("attr.") ? this.attribute(name.slice(5)) : null;
    }
  }

  private dimensions(): { width: number; height: number } | null {
    if (this.size === undefined) this.size = objectSize(this.object);
    return this.size;
  }

  /** `<label>.<attribute>` (CVAT's form) or `<attribute>` of the object's own label */
  private attribute(path: string): Scalar {
    const label = this.labels.get(this.object.labelId);
    if (!label) return null;
    const dot = path.indexOf(".");
    let attrName = path;
    if (dot >= 0) {
      if (path.slice(0, dot) !== adjustName(label.name)) return null;
      attrName = path.slice(dot + 1);
    }
    const spec = label.attributes.find((a) => adjustName(a.name) === attrName);
    if (!spec) return null;
    const value = this.object.attributes[spec.id] ?? spec.default_value;
    return attributeValue(spec, value);
  }
}

// --- compiling JSON Logic -----------------------------------------------------------------------

type Predicate = (row: Row) => boolean;
type Operand =
  | { kind: "var"; name: string; type: Kind | null }
  | { kind: "value"; value: Scalar }
  | { kind: "list"; values: Scalar[] };

const COMPARISONS = new Set(["==", "!=", "===", "!==", "<", "<=", ">", ">="]);
const FLIPPED: Record<string, string> = { "<": ">", "<=": ">=", ">": "<", ">=": "<=" };

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function fieldType(name: string): Kind | null {
  if (name.startsWith("attr.") && name.length > 5) return null;
  const kind = FILTER_FIELDS[name];
  if (!kind) throw new FilterError(`"${name}" is not a filter field (use ${Object.keys(FILTER_FIELDS).join(", ")} or attr.<label>.<attribute>)`);
  return kind;
}

function isScalar(value: unknown): value is Scalar {
  return value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

function varName(args: unknown): string | null {
  const name = Array.isArray(args) && args.length === 1 ? args[0] : args;
  return typeof name === "string" && name ? name : null;
}

function operand(arg: unknown): Operand {
  if (isScalar(arg)) return { kind: "value", value: arg };
  if (Array.isArray(arg)) {
    if (!arg.every(isScalar)) throw new FilterError(`a list may hold only strings, numbers and booleans: ${show(arg)}`);
    return { kind: "list", values: arg };
  }
  if (typeof arg === "object" && arg !== null && Object.keys(arg).length === 1 && "var" in arg) {
    const name = varName((arg as { var: unknown }).var);
    if (name === null) throw new FilterError(`"var" needs a field name: ${show(arg)}`);
    return { kind: "var", name, type: fieldType(name) };
  }
  throw new FilterError(`expected a field ({"var": name}) or a value, got ${show(arg)}`);
}

/** A value made comparable with a field of `kind`; undefined when it cannot be. */
function coerce(kind: Kind, value: Scalar): Scalar | undefined {
  if (value === null) return null;
  if (kind === "boolean") {
    if (typeof value === "boolean") return value;
    const text = String(value).toLowerCase();
    if (text === "true" || text === "1") return true;
    if (text === "false" || text === "0") return false;
    return undefined;
  }
  if (kind === "number") {
    if (typeof value === "number") return value;
    if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
    return undefined;
  }
  return typeof value === "boolean" ? String(value) : typeof value === "number" ? String(value) : value;
}

function kindOf(value: Scalar): Kind | null {
  if (typeof value === "string") return "string";
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "boolean";
  return null;
}

/** A literal for a field: checked now when the field's type is known, else at each object. */
function literalFor(field: Extract<Operand, { kind: "var" }>, value: Scalar): (actual: Scalar) => Scalar | undefined {
  if (field.type === null) {
    return (actual) => {
      const kind = kindOf(actual);
      return kind ? coerce(kind, value) : value;
    };
  }
  const coerced = coerce(field.type, value);
  if (coerced === undefined) {
    const expected = field.type === "boolean" ? "true or false" : "a number";
    throw new FilterError(`${field.name} expects ${expected}, got ${show(value)}`);
  }
  return () => coerced;
}

/** The field's value; `label` compared with CVAT's stable "label:<id>" form gives that form. */
function fieldValue(row: Row, name: string, literal: Scalar): Scalar {
  if (name === "label" && typeof literal === "string" && /^label:\d+$/.test(literal)) return `label:${row.object.labelId}`;
  return row.get(name);
}

function compare(op: string, left: Scalar, right: Scalar | undefined): boolean {
  if (right === undefined) return op === "!=" || op === "!=="; // a value the field can never hold
  if (op === "==" || op === "===") return left === right;
  if (op === "!=" || op === "!==") return left !== right;
  if (left === null || right === null || typeof left !== typeof right || typeof left === "boolean") return false;
  if (op === "<") return left < right;
  if (op === "<=") return left <= right;
  if (op === ">") return left > right;
  return left >= right;
}

function comparison(op: string, args: unknown): Predicate {
  if (!Array.isArray(args)) throw new FilterError(`"${op}" needs a list of arguments, got ${show(args)}`);
  if (args.length === 3 && (op === "<" || op === "<=")) {
    // "between": {"<=": [low, {"var": x}, high]}
    const [low, middle, high] = args.map(operand) as [Operand, Operand, Operand];
    if (middle.kind !== "var" || low.kind !== "value" || high.kind !== "value") throw new FilterError(`"${op}" with three arguments needs [value, field, value]: ${show(args)}`);
    const lowOf = literalFor(middle, low.value);
    const highOf = literalFor(middle, high.value);
    return (row) => {
      const v = row.get(middle.name);
      return compare(FLIPPED[op] ?? op, v, lowOf(v)) && compare(op, v, highOf(v));
    };
  }
  if (args.length !== 2) throw new FilterError(`"${op}" needs two arguments, got ${show(args)}`);
  let [left, right] = args.map(operand) as [Operand, Operand];
  let actualOp = op;
  if (left.kind !== "var" && right.kind === "var") {
    [left, right] = [right, left];
    actualOp = FLIPPED[op] ?? op;
  }
  if (left.kind !== "var" || right.kind !== "value") throw new FilterError(`"${op}" compares a field with a value: ${show(args)}`);
  const field = left;
  const literal = right.value;
  const literalOf = literalFor(field, literal);
  return (row) => {
    const v = fieldValue(row, field.name, literal);
    return compare(actualOp, v, literalOf(v));
  };
}

function membership(args: unknown): Predicate {
  if (!Array.isArray(args) || args.length !== 2) throw new FilterError(`"in" needs two arguments, got ${show(args)}`);
  const [first, second] = args.map(operand) as [Operand, Operand];
  if (first.kind === "var" && second.kind === "list") {
    const options = second.values.map((value) => ({ value, of: literalFor(first, value) }));
    return (row) =>
      options.some(({ value, of }) => {
        const v = fieldValue(row, first.name, value);
        return v !== null && v === of(v);
      });
  }
  if (first.kind === "value" && second.kind === "var") {
    // CVAT's "like": {"in": ["substring", {"var": field}]}
    const needle = String(first.value);
    return (row) => {
      const v = row.get(second.name);
      return v !== null && String(v).includes(needle);
    };
  }
  throw new FilterError(`"in" needs [field, [values]] or ["text", field]: ${show(args)}`);
}

/** JSON Logic's truthiness (json-logic-js): empty strings, 0, false and null are false. */
function truthy(value: Scalar): boolean {
  return value !== null && value !== false && value !== 0 && value !== "" && !Number.isNaN(value);
}

function compileNode(rule: unknown): Predicate {
  if (typeof rule !== "object" || rule === null || Array.isArray(rule)) throw new FilterError(`expected an operation like {"==": [...]}, got ${show(rule)}`);
  const keys = Object.keys(rule);
  if (keys.length !== 1) throw new FilterError(`an operation has exactly one operator, got ${keys.length === 0 ? "none" : keys.join(", ")}`);
  const op = keys[0] as string;
  const args: unknown = (rule as Record<string, unknown>)[op];
  if (op === "and" || op === "or") {
    if (!Array.isArray(args) || args.length === 0) throw new FilterError(`"${op}" needs a non-empty list, got ${show(args)}`);
    const parts = args.map(compileNode);
    return op === "and" ? (row) => parts.every((p) => p(row)) : (row) => parts.some((p) => p(row));
  }
  if (op === "!" || op === "!!") {
    const inner = Array.isArray(args) ? (args.length === 1 ? args[0] : undefined) : args;
    if (inner === undefined) throw new FilterError(`"${op}" takes one argument, got ${show(args)}`);
    const test = truthTest(inner);
    return op === "!" ? (row) => !test(row) : test;
  }
  if (op === "var") return truthTest(rule);
  if (COMPARISONS.has(op)) return comparison(op, args);
  if (op === "in") return membership(args);
  throw new FilterError(`"${op}" is not a supported operator (and, or, !, !!, var, ==, !=, <, <=, >, >=, in)`);
}

/** A field alone means "truthy"; a literal is its own truth; anything else is an operation. */
function truthTest(arg: unknown): Predicate {
  if (typeof arg === "object" && arg !== null && !Array.isArray(arg) && "var" in arg && Object.keys(arg).length === 1) {
    const field = operand(arg);
    if (field.kind !== "var") throw new FilterError(`bad field ${show(arg)}`);
    return (row) => truthy(row.get(field.name));
  }
  if (isScalar(arg)) {
    const value = truthy(arg);
    return () => value;
  }
  return compileNode(arg);
}

/**
 * A predicate for CVAT's JSON Logic filter. `null` (no filter) and an empty list match every
 * object; a list of rules must all hold (CVAT's UI keeps its filters as such a list). Malformed
 * logic, an unknown operator or field, or a value a field cannot hold (`occluded == "maybe"`)
 * throws a FilterError now, never while filtering.
 */
export function compileFilter(json: unknown): ObjectFilter {
  if (json === null || json === undefined) return () => true;
  const rules = Array.isArray(json) ? json : [json];
  if (rules.length === 0) return () => true;
  const parts = rules.map(compileNode);
  return (object, labels) => {
    const row = new Row(object, labels);
    return parts.every((p) => p(row));
  };
}

/** A filter's JSON text, parsed (a FilterError for text that is not JSON, or for empty text). */
export function parseFilterText(text: string): unknown {
  if (!text.trim()) throw new FilterError("The filter is empty");
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new FilterError(`The filter is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

// --- the text form ------------------------------------------------------------------------------

type Token =
  | { t: "op"; v: string; at: number }
  | { t: "str"; v: string; at: number }
  | { t: "num"; v: number; at: number }
  | { t: "word"; v: string; at: number }
  | { t: "end"; at: number };

const SYMBOLS = ["===", "!==", "==", "!=", "<=", ">=", "&&", "||", "&", "|", "<", ">", "=", "!", "(", ")", "[", "]", ",", "."];

function readString(text: string, start: number): [string, number] {
  const quote = text[start];
  let out = "";
  let i = start + 1;
  while (i < text.length && text[i] !== quote) {
    if (text[i] === "\\" && i + 1 < text.length) i++;
    out += text[i];
    i++;
  }
  if (i >= text.length) throw new FilterError(`unterminated string at ${start + 1}`);
  return [out, i + 1];
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      const [value, next] = readString(text, i);
      tokens.push({ t: "str", v: value, at: i });
      i = next;
      continue;
    }
    const number = /^-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?/i.exec(text.slice(i));
    const previous = tokens[tokens.length - 1];
    // a number, unless it continues a name ("attr.size.2")
    if (number && !(previous?.t === "op" && previous.v === ".")) {
      tokens.push({ t: "num", v: Number(number[0]), at: i });
      i += number[0].length;
      continue;
    }
    const word = /^[\p{L}\p{N}_$\u2219][\p{L}\p{N}_$\u2219-]*/u.exec(text.slice(i));
    if (word) {
      tokens.push({ t: "word", v: word[0], at: i });
      i += word[0].length;
      continue;
    }
    const symbol = SYMBOLS.find((s) => text.startsWith(s, i));
    if (!symbol) throw new FilterError(`unexpected "${c}" at ${i + 1}`);
    tokens.push({ t: "op", v: symbol, at: i });
    i += symbol.length;
  }
  tokens.push({ t: "end", at: text.length });
  return tokens;
}

const TEXT_OPERATORS: Record<string, string> = { "==": "==", "===": "==", "=": "==", "!=": "!=", "!==": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=" };

class Parser {
  private i = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): unknown {
    const rule = this.or();
    const rest = this.peek();
    if (rest.t !== "end") throw new FilterError(`unexpected ${this.describe(rest)} at ${rest.at + 1}`);
    return rule;
  }

  private peek(): Token {
    return this.tokens[this.i] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.t !== "end") this.i++;
    return token;
  }

  private isOp(v: string): boolean {
    const token = this.peek();
    return token.t === "op" && token.v === v;
  }

  private isWord(v: string): boolean {
    const token = this.peek();
    return token.t === "word" && token.v.toLowerCase() === v;
  }

  private describe(token: Token): string {
    return token.t === "end" ? "end of filter" : `"${token.v}"`;
  }

  private expect(v: string): void {
    const token = this.next();
    if (token.t !== "op" || token.v !== v) throw new FilterError(`expected "${v}" at ${token.at + 1}, got ${this.describe(token)}`);
  }

  private or(): unknown {
    const parts = [this.and()];
    while (this.isOp("||") || this.isOp("|") || this.isWord("or")) { // "|" and "&": CVAT's older text form
      this.next();
      parts.push(this.and());
    }
    return parts.length === 1 ? parts[0] : { or: parts };
  }

  private and(): unknown {
    const parts = [this.unary()];
    while (this.isOp("&&") || this.isOp("&") || this.isWord("and")) {
      this.next();
      parts.push(this.unary());
    }
    return parts.length === 1 ? parts[0] : { and: parts };
  }

  private unary(): unknown {
    if (this.isOp("!") || this.isWord("not")) {
      this.next();
      return { "!": this.unary() };
    }
    if (this.isOp("(")) {
      this.next();
      const inner = this.or();
      this.expect(")");
      return inner;
    }
    return this.condition();
  }

  private field(): string {
    const first = this.next();
    if (first.t !== "word") throw new FilterError(`expected a field at ${first.at + 1}, got ${this.describe(first)}`);
    const parts = [first.v];
    while (this.isOp(".")) {
      this.next();
      const part = this.next();
      // attr."a name with spaces" or attr.`x`
      if (part.t === "word" || part.t === "str") parts.push(adjustName(part.v));
      else if (part.t === "num") parts.push(String(part.v));
      else throw new FilterError(`expected a name after "." at ${part.at + 1}`);
    }
    return parts.join(".");
  }

  private value(): Scalar {
    const token = this.next();
    if (token.t === "str" || token.t === "num") return token.v;
    if (token.t === "word") {
      const lower = token.v.toLowerCase();
      if (lower === "true") return true;
      if (lower === "false") return false;
      if (lower === "null") return null;
      return token.v; // a bare word: `shape == rectangle`
    }
    throw new FilterError(`expected a value at ${token.at + 1}, got ${this.describe(token)}`);
  }

  private list(): Scalar[] {
    const open = this.next();
    if (open.t !== "op" || (open.v !== "(" && open.v !== "[")) throw new FilterError(`expected a list like ("a", "b") at ${open.at + 1}`);
    const close = open.v === "(" ? ")" : "]";
    const values = [this.value()];
    while (this.isOp(",")) {
      this.next();
      values.push(this.value());
    }
    this.expect(close);
    return values;
  }

  private condition(): unknown {
    const field = { var: this.field() };
    const token = this.peek();
    if (token.t === "op" && token.v in TEXT_OPERATORS) {
      this.next();
      return { [TEXT_OPERATORS[token.v] as string]: [field, this.value()] };
    }
    if (this.isWord("in")) {
      this.next();
      return { in: [field, this.list()] };
    }
    if (this.isWord("not") && this.tokens[this.i + 1]?.t === "word" && (this.tokens[this.i + 1] as { v: string }).v.toLowerCase() === "in") {
      this.i += 2;
      return { "!": { in: [field, this.list()] } };
    }
    if (this.isWord("contains")) {
      this.next();
      return { in: [String(this.value()), field] };
    }
    return { "!!": field }; // a field alone: `occluded`
  }
}

/**
 * A filter typed as text, as JSON Logic: comparisons (`==`, `!=`, `<`, `<=`, `>`, `>=`), `in
 * ("car", "bus")`, `not in (...)`, `contains "text"`, `&&`/`and`, `||`/`or`, `!`/`not`,
 * parentheses, quoted strings, numbers, true/false/null, bare words as strings
 * (`shape == rectangle`) and a field alone for "is true" (`occluded`). Fields are `label`,
 * `type`, `shape`, ... and `attr.<name>` or `attr.<label>.<name>`; a name with spaces is quoted
 * (`attr."licence plate"`).
 */
export function parseSimpleFilter(text: string): unknown {
  if (!text.trim()) throw new FilterError("The filter is empty");
  return new Parser(tokenize(text)).parse();
}

/** What a user typed into the filter box: JSON when it starts with "{" or "[", else the text form. */
export function parseFilterInput(text: string): unknown {
  const trimmed = text.trim();
  return trimmed.startsWith("{") || trimmed.startsWith("[") ? parseFilterText(trimmed) : parseSimpleFilter(trimmed);
}
