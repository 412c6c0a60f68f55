// The annotation workspace's keyboard shortcuts: CVAT's default bindings (its shortcuts page and
// the annotation page's key map), one normalized spelling for a key combination, and the per-user
// key map that the workspace asks which action a keydown means. Overrides are stored in
// localStorage under `cvat.keymap.<user>`, as CVAT keeps customized shortcuts per user.
import type { ActionId, KeyAction, KeyMapApi } from "./contracts";

function action(id: ActionId, group: string, name: string, description: string, defaults: string[]): KeyAction {
  return { id, group, name, description, defaults };
}

/** CVAT's labels 1..10 on Ctrl+1..Ctrl+9, Ctrl+0 (the bare digits belong to attribute values). */
function labelActions(): KeyAction[] {
  return Array.from({ length: 10 }, (_, i) =>
    action(`switch_label_${i + 1}`, "Labels", `Label ${i + 1}`, `The job's label number ${i + 1}: for the selected object, else for the next one drawn`, [`ctrl+${(i + 1) % 10}`]),
  );
}

export const ACTIONS: readonly KeyAction[] = [
  action("show_shortcuts", "General", "Shortcuts", "Open or hide the list of shortcuts", ["f1", "?"]),
  action("open_settings", "General", "Settings", "Open or hide the settings", ["f2"]),
  action("save_job", "General", "Save", "Send every change of the annotations to the server", ["ctrl+s"]),
  action("undo", "General", "Undo", "Cancel the latest action on objects", ["ctrl+z"]),
  action("redo", "General", "Redo", "Repeat the action that was undone", ["ctrl+shift+z", "ctrl+y"]),
  action("cancel", "General", "Cancel", "Cancel the active canvas mode (drawing, editing, merging, grouping...)", ["escape"]),

  action("next_frame", "Navigation", "Next frame", "Go to the next frame", ["f"]),
  action("prev_frame", "Navigation", "Previous frame", "Go to the previous frame", ["d"]),
  action("forward_frame", "Navigation", "Forward a step", "Go forward by the frame step (settings)", ["v"]),
  action("backward_frame", "Navigation", "Backward a step", "Go backward by the frame step (settings)", ["c"]),
  action("search_forward", "Navigation", "Next filtered frame", "Go to the next frame with objects that pass the filter (any objects without one)", ["right"]),
  action("search_backward", "Navigation", "Previous filtered frame", "Go to the previous frame with objects that pass the filter (any objects without one)", ["left"]),
  action("play_pause", "Navigation", "Play / pause", "Start or stop changing frames automatically", ["space"]),
  action("focus_frame_input", "Navigation", "Go to frame", "Focus the input that changes the current frame", ["`", "~"]),
  action("next_key_frame", "Navigation", "Next keyframe", "Go to the next keyframe of the selected track", ["r"]),
  action("prev_key_frame", "Navigation", "Previous keyframe", "Go to the previous keyframe of the selected track", ["e"]),
  action("next_object", "Navigation", "Next object", "Select the next object on the frame", ["tab"]),
  action("prev_object", "Navigation", "Previous object", "Select the previous object on the frame", ["shift+tab"]),

  action("draw_again", "Drawing", "Draw again", "Repeat the latest drawing with the same label and shape", ["n"]),
  action("redraw", "Drawing", "Redraw", "Draw the selected shape again, keeping its label and attributes", ["shift+n"]),
  action("merge", "Drawing", "Merge mode", "Start merging tracks, or apply the merge", ["m"]),
  action("split", "Drawing", "Split mode", "Start splitting a track, or stop", ["alt+m"]),
  action("group", "Drawing", "Group mode", "Start grouping objects, or apply the group", ["g"]),
  action("ungroup", "Drawing", "Reset group", "Remove the selected objects from their group", ["shift+g"]),

  action("delete_object", "Objects", "Delete", "Delete the selected object", ["delete"]),
  action("delete_object_force", "Objects", "Delete locked", "Delete the selected object even when it is locked", ["shift+delete"]),
  action("copy_object", "Objects", "Copy", "Copy the selected object to the workspace's clipboard", ["ctrl+c"]),
  action("paste_object", "Objects", "Paste", "Paste the copied object on the current frame", ["ctrl+v"]),
  action("propagate_object", "Objects", "Propagate", "Copy the selected object to the following frames", ["ctrl+b"]),
  action("switch_lock", "Objects", "Lock", "Lock or unlock the selected object", ["l"]),
  action("switch_hidden", "Objects", "Hide", "Hide or show the selected object", ["h"]),
  action("switch_occluded", "Objects", "Occluded", "Switch the occluded property of the selected object", ["q", "/"]),
  action("switch_outside", "Objects", "Outside", "Switch the outside property of the selected track", ["o"]),
  action("switch_keyframe", "Objects", "Keyframe", "Make the current frame a keyframe of the selected track, or not", ["k"]),
  action("to_foreground", "Objects", "Closer", "Put the selected object closer to the viewer (z order up)", ["plus", "="]),
  action("to_background", "Objects", "Farther", "Put the selected object farther from the viewer (z order down)", ["-", "_"]),

  action("rotate_clockwise", "View", "Rotate clockwise", "Rotate the image by 90 degrees clockwise", ["ctrl+r"]),
  action("rotate_anticlockwise", "View", "Rotate anticlockwise", "Rotate the image by 90 degrees anticlockwise", ["ctrl+shift+r"]),
  action("zoom_in", "View", "Zoom in", "Zoom the image in", ["ctrl+=", "ctrl+plus"]),
  action("zoom_out", "View", "Zoom out", "Zoom the image out", ["ctrl+-"]),

  ...labelActions(),
];

// --- the spelling of a key combination ---------------------------------------------------------

/** What `keyString` reads from a keydown (a DOM KeyboardEvent or a plain object in tests). */
export interface KeyEventLike {
  key: string;
  code?: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
  target?: unknown;
  isComposing?: boolean;
}

const MODIFIERS = ["ctrl", "alt", "shift"] as const;

const MODIFIER_ALIASES: Record<string, (typeof MODIFIERS)[number]> = {
  ctrl: "ctrl",
  control: "ctrl",
  cmd: "ctrl", // macOS: Cmd+S is Ctrl+S
  command: "ctrl",
  meta: "ctrl",
  mod: "ctrl",
  alt: "alt",
  option: "alt",
  shift: "shift",
};

const KEY_ALIASES: Record<string, string> = {
  " ": "space",
  spacebar: "space",
  esc: "escape",
  del: "delete",
  "+": "plus",
  return: "enter",
  os: "meta",
};

/** The names a sequence uses for the arrow keys (CVAT's "left"/"right"). */
const ARROWS: Record<string, string> = { arrowup: "up", arrowdown: "down", arrowleft: "left", arrowright: "right" };

function keyName(raw: string): string {
  const lower = raw.toLowerCase();
  const aliased = KEY_ALIASES[lower] ?? lower;
  return ARROWS[aliased] ?? aliased;
}

/** Whether a key name is a modifier pressed alone (Control, Shift, Alt, Meta). */
export function isModifierKey(key: string): boolean {
  const name = keyName(key);
  return name in MODIFIER_ALIASES || name === "altgraph" || name === "capslock";
}

/** A printed symbol ("?", "_", "+"): Shift is part of the symbol, not a modifier of it. */
function isSymbol(name: string): boolean {
  return name === "plus" || (name.length === 1 && !/[a-z0-9]/.test(name));
}

function join(mods: ReadonlySet<string>, key: string): string {
  return [...MODIFIERS.filter((m) => mods.has(m)), key].join("+");
}

/**
 * A keydown as a sequence: modifiers in the order ctrl, alt, shift, then the key, all lower case
 * ("ctrl+shift+z", "f", "1", "delete", "space", "shift+tab", "f1", "plus"). Meta (Cmd) counts as
 * ctrl. With ctrl or alt held, letters and digits come from the physical key, so that Alt+M on
 * macOS (which types "µ") and Ctrl+1 on layouts where digits need Shift still read as such. A
 * printed symbol already includes Shift ("?" is Shift+/), so Shift is dropped for symbols.
 * A modifier pressed alone gives its own name ("ctrl", "shift"); an unknown key gives "".
 */
export function keyString(event: KeyEventLike): string {
  const mods = new Set<string>();
  if (event.ctrlKey || event.metaKey) mods.add("ctrl");
  if (event.altKey) mods.add("alt");
  if (event.shiftKey) mods.add("shift");
  if (!event.key || event.key === "Unidentified" || event.key === "Dead") return "";
  if (isModifierKey(event.key)) {
    const name = MODIFIER_ALIASES[keyName(event.key)];
    return name ?? keyName(event.key);
  }
  let key = event.key;
  const physical = /^(?:Key([A-Z])|Digit([0-9]))$/.exec(event.code ?? "");
  if (physical && (mods.has("ctrl") || mods.has("alt"))) key = physical[1] ?? physical[2] ?? key;
  const name = keyName(key);
  if (isSymbol(name)) mods.delete("shift");
  return join(mods, name);
}

/**
 * A sequence as the user or a default wrote it ("Ctrl+Shift+Z", "cmd+s", "Esc", "Shift++") in the
 * spelling `keyString` gives, or "" when it has no key.
 */
export function normalizeSequence(text: string): string {
  const trimmed = text.trim().toLowerCase();
  if (!trimmed) return "";
  // "+" is both the separator and a key: a trailing "++" (or the sequence "+") ends with the key
  let body = trimmed;
  let last: string | null = null;
  if (trimmed === "+") return "plus";
  if (trimmed.endsWith("++")) {
    body = trimmed.slice(0, -2);
    last = "plus";
  }
  const parts = body.split("+").map((p) => p.trim()).filter((p) => p.length > 0);
  if (last === null) last = parts.pop() ?? null;
  if (last === null) return "";
  const mods = new Set<string>();
  for (const part of parts) {
    const mod = MODIFIER_ALIASES[part];
    if (!mod) return ""; // two non-modifier keys are not one combination
    mods.add(mod);
  }
  const modifier = MODIFIER_ALIASES[last];
  if (modifier && parts.length === 0) return modifier;
  const key = keyName(last);
  if (isSymbol(key)) mods.delete("shift");
  return join(mods, key);
}

const PRETTY: Record<string, string> = {
  ctrl: "Ctrl",
  alt: "Alt",
  shift: "Shift",
  plus: "+",
  space: "Space",
  escape: "Esc",
  delete: "Del",
  backspace: "Backspace",
  enter: "Enter",
  tab: "Tab",
  up: "↑",
  down: "↓",
  left: "←",
  right: "→",
};

/** A sequence for people: "ctrl+shift+z" -> "Ctrl+Shift+Z", "plus" -> "+", "left" -> "←". */
export function formatSequence(sequence: string): string {
  if (!sequence) return "";
  return sequence.split("+").map((p) => PRETTY[p] ?? (p.length === 1 || /^f\d+$/.test(p) ? p.toUpperCase() : p.charAt(0).toUpperCase() + p.slice(1))).join("+");
}

/** Whether a sequence holds Ctrl or Alt (those work while typing in a field). */
function hasCommandModifier(sequence: string): boolean {
  return sequence.startsWith("ctrl+") || sequence.startsWith("alt+");
}

/** Whether a keydown's target takes text: input, textarea, select or contenteditable. */
export function isEditableTarget(target: unknown): boolean {
  if (typeof target !== "object" || target === null) return false;
  const element = target as { tagName?: unknown; isContentEditable?: unknown };
  if (element.isContentEditable === true) return true;
  const tag = typeof element.tagName === "string" ? element.tagName.toUpperCase() : "";
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
}

// --- the key map --------------------------------------------------------------------------------

export type KeyStorage = Pick<Storage, "getItem" | "setItem" | "removeItem">;

function memoryStorage(): KeyStorage {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

function defaultStorage(): KeyStorage {
  try {
    if (typeof localStorage !== "undefined") return localStorage;
  } catch {
    // storage disabled (privacy settings): keep the overrides in memory
  }
  return memoryStorage();
}

function normalizeAll(keys: readonly string[]): string[] {
  const out: string[] = [];
  for (const key of keys) {
    const sequence = normalizeSequence(key);
    if (sequence && !out.includes(sequence)) out.push(sequence);
  }
  return out;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

/** The stored overrides, with whatever is not a known action's list of strings left out. */
function parseOverrides(text: string | null, known: ReadonlySet<string>): Map<ActionId, string[]> {
  const overrides = new Map<ActionId, string[]>();
  if (!text) return overrides;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return overrides;
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return overrides;
  for (const [id, keys] of Object.entries(data as Record<string, unknown>)) {
    if (known.has(id) && Array.isArray(keys) && keys.every((k): k is string => typeof k === "string")) overrides.set(id, normalizeAll(keys));
  }
  return overrides;
}

/**
 * A user's shortcuts: CVAT's defaults with the user's overrides. `match` answers which action a
 * keydown means; single keys never act while the user types in a field (so "f" typed into an
 * attribute does not change the frame), combinations with Ctrl or Alt do (Ctrl+S saves from
 * anywhere).
 */
export class KeyMap implements KeyMapApi {
  readonly storageKey: string;
  private readonly storage: KeyStorage;
  private readonly known: ReadonlySet<string>;
  private overrides: Map<ActionId, string[]>;
  private index: Map<string, ActionId> | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly list: readonly KeyAction[];

  constructor(userKey: string, storage: KeyStorage = defaultStorage(), list: readonly KeyAction[] = ACTIONS) {
    this.list = list;
    this.storageKey = `cvat.keymap.${userKey}`;
    this.storage = storage;
    this.known = new Set(list.map((a) => a.id));
    this.overrides = parseOverrides(this.read(), this.known);
  }

  actions(): readonly KeyAction[] {
    return this.list;
  }

  bindings(id: ActionId): string[] {
    const override = this.overrides.get(id);
    if (override) return [...override];
    const found = this.list.find((a) => a.id === id);
    return found ? normalizeAll(found.defaults) : [];
  }

  /** Whether the user changed an action's keys (or all of them, without an id). */
  isCustomized(id?: ActionId): boolean {
    return id === undefined ? this.overrides.size > 0 : this.overrides.has(id);
  }

  rebind(id: ActionId, keys: string[]): void {
    const found = this.list.find((a) => a.id === id);
    if (!found) throw new RangeError(`Unknown shortcut action "${id}"`);
    const normalized = normalizeAll(keys);
    if (sameKeys(normalized, normalizeAll(found.defaults))) this.overrides.delete(id);
    else this.overrides.set(id, normalized);
    this.changed();
  }

  reset(id?: ActionId): void {
    if (id === undefined) this.overrides.clear();
    else this.overrides.delete(id);
    this.changed();
  }

  match(event: KeyboardEvent | KeyEventLike): ActionId | null {
    if (event.isComposing) return null;
    const sequence = keyString(event);
    if (!sequence) return null;
    if (isEditableTarget(event.target) && !hasCommandModifier(sequence)) return null;
    return this.lookup().get(sequence) ?? null;
  }

  /** The action bound to a sequence (the first in the list when several are), or null. */
  actionFor(sequence: string): ActionId | null {
    return this.lookup().get(normalizeSequence(sequence)) ?? null;
  }

  conflicts(): { keys: string; actions: ActionId[] }[] {
    const users = new Map<string, ActionId[]>();
    for (const a of this.list) {
      for (const keys of this.bindings(a.id)) users.set(keys, [...(users.get(keys) ?? []), a.id]);
    }
    return [...users].filter(([, ids]) => ids.length > 1).map(([keys, actions]) => ({ keys, actions }));
  }

  /** Called after every rebind and reset; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private lookup(): Map<string, ActionId> {
    if (!this.index) {
      const index = new Map<string, ActionId>();
      for (const a of this.list) {
        for (const keys of this.bindings(a.id)) if (!index.has(keys)) index.set(keys, a.id);
      }
      this.index = index;
    }
    return this.index;
  }

  private read(): string | null {
    try {
      return this.storage.getItem(this.storageKey);
    } catch {
      return null;
    }
  }

  private changed(): void {
    this.index = null;
    try {
      if (this.overrides.size === 0) this.storage.removeItem(this.storageKey);
      else this.storage.setItem(this.storageKey, JSON.stringify(Object.fromEntries(this.overrides)));
    } catch {
      // storage full or disabled: the change holds for this page only
    }
    for (const listener of this.listeners) listener();
  }
}
