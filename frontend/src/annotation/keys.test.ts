import { describe, expect, it } from "vitest";
import { ACTIONS, formatSequence, KeyMap, keyString, normalizeSequence, type KeyEventLike, type KeyStorage } from "./keys";

function key(k: string, extra: Partial<KeyEventLike> = {}): KeyEventLike {
  return { key: k, code: "", ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...extra };
}

function storage(): KeyStorage & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (k) => items.get(k) ?? null,
    setItem: (k, v) => void items.set(k, v),
    removeItem: (k) => void items.delete(k),
  };
}

describe("defaults", () => {
  it("has CVAT's bindings for the main actions", () => {
    const map = new KeyMap("u1", storage());
    expect(map.bindings("next_frame")).toEqual(["f"]);
    expect(map.bindings("prev_frame")).toEqual(["d"]);
    expect(map.bindings("forward_frame")).toEqual(["v"]);
    expect(map.bindings("backward_frame")).toEqual(["c"]);
    expect(map.bindings("play_pause")).toEqual(["space"]);
    expect(map.bindings("undo")).toEqual(["ctrl+z"]);
    expect(map.bindings("redo")).toEqual(["ctrl+shift+z", "ctrl+y"]);
    expect(map.bindings("draw_again")).toEqual(["n"]);
    expect(map.bindings("redraw")).toEqual(["shift+n"]);
    expect(map.bindings("delete_object")).toEqual(["delete"]);
    expect(map.bindings("switch_occluded")).toEqual(["q", "/"]);
    expect(map.bindings("split")).toEqual(["alt+m"]);
    expect(map.bindings("switch_label_1")).toEqual(["ctrl+1"]);
    expect(map.bindings("switch_label_10")).toEqual(["ctrl+0"]);
    expect(map.bindings("to_foreground")).toEqual(["plus", "="]);
    expect(map.bindings("nothing")).toEqual([]);
  });

  it("ids are unique, defaults are already normalized and do not conflict", () => {
    expect(new Set(ACTIONS.map((a) => a.id)).size).toBe(ACTIONS.length);
    for (const a of ACTIONS) for (const d of a.defaults) expect(normalizeSequence(d)).toBe(d);
    expect(new KeyMap("u1", storage()).conflicts()).toEqual([]);
  });
});

describe("keyString", () => {
  it("normalizes modifiers, names and case", () => {
    expect(keyString(key("Z", { ctrlKey: true, shiftKey: true, code: "KeyZ" }))).toBe("ctrl+shift+z");
    expect(keyString(key("f"))).toBe("f");
    expect(keyString(key("F", { shiftKey: true }))).toBe("shift+f");
    expect(keyString(key("1"))).toBe("1");
    expect(keyString(key("Delete"))).toBe("delete");
    expect(keyString(key(" "))).toBe("space");
    expect(keyString(key("Tab"))).toBe("tab");
    expect(keyString(key("Tab", { shiftKey: true }))).toBe("shift+tab");
    expect(keyString(key("F1"))).toBe("f1");
    expect(keyString(key("Escape"))).toBe("escape");
    expect(keyString(key("ArrowRight"))).toBe("right");
  });

  it("reads Cmd as Ctrl and the physical key under Ctrl/Alt", () => {
    expect(keyString(key("s", { metaKey: true, code: "KeyS" }))).toBe("ctrl+s");
    expect(keyString(key("s", { metaKey: true, ctrlKey: true }))).toBe("ctrl+s");
    expect(keyString(key("µ", { altKey: true, code: "KeyM" }))).toBe("alt+m"); // macOS Option+M
    expect(keyString(key("&", { ctrlKey: true, code: "Digit1" }))).toBe("ctrl+1"); // AZERTY
  });

  it("folds Shift into printed symbols", () => {
    expect(keyString(key("?", { shiftKey: true, code: "Slash" }))).toBe("?");
    expect(keyString(key("+", { shiftKey: true, code: "Equal" }))).toBe("plus");
    expect(keyString(key("+", { ctrlKey: true, shiftKey: true, code: "Equal" }))).toBe("ctrl+plus");
    expect(keyString(key("_", { shiftKey: true }))).toBe("_");
  });

  it("names a lone modifier and gives nothing for unknown keys", () => {
    expect(keyString(key("Control", { ctrlKey: true }))).toBe("ctrl");
    expect(keyString(key("Shift", { shiftKey: true }))).toBe("shift");
    expect(keyString(key("Meta", { metaKey: true }))).toBe("ctrl");
    expect(keyString(key("Dead"))).toBe("");
    expect(keyString(key("Unidentified"))).toBe("");
  });

  it("normalizeSequence accepts what people write", () => {
    expect(normalizeSequence("Ctrl+Shift+Z")).toBe("ctrl+shift+z");
    expect(normalizeSequence("shift+ctrl+z")).toBe("ctrl+shift+z");
    expect(normalizeSequence("Cmd+S")).toBe("ctrl+s");
    expect(normalizeSequence("Esc")).toBe("escape");
    expect(normalizeSequence("del")).toBe("delete");
    expect(normalizeSequence("+")).toBe("plus");
    expect(normalizeSequence("ctrl++")).toBe("ctrl+plus");
    expect(normalizeSequence("shift+/")).toBe("/");
    expect(normalizeSequence("a+b")).toBe("");
    expect(normalizeSequence("  ")).toBe("");
  });

  it("formatSequence is for people", () => {
    expect(formatSequence("ctrl+shift+z")).toBe("Ctrl+Shift+Z");
    expect(formatSequence("plus")).toBe("+");
    expect(formatSequence("ctrl+plus")).toBe("Ctrl++");
    expect(formatSequence("f1")).toBe("F1");
    expect(formatSequence("space")).toBe("Space");
    expect(formatSequence("right")).toBe("→");
  });
});

describe("match", () => {
  const map = new KeyMap("u1", storage());

  it("finds the action of a keydown", () => {
    expect(map.match(key("f") as KeyboardEvent)).toBe("next_frame");
    expect(map.match(key("N", { shiftKey: true }) as KeyboardEvent)).toBe("redraw");
    expect(map.match(key("n"))).toBe("draw_again");
    expect(map.match(key("y", { ctrlKey: true, code: "KeyY" }))).toBe("redo");
    expect(map.match(key("z", { metaKey: true, shiftKey: true, code: "KeyZ" }))).toBe("redo");
    expect(map.match(key("3", { ctrlKey: true, code: "Digit3" }))).toBe("switch_label_3");
    expect(map.match(key("?", { shiftKey: true }))).toBe("show_shortcuts");
    expect(map.match(key("x"))).toBeNull();
    expect(map.match(key("Shift", { shiftKey: true }))).toBeNull();
    expect(map.match(key("f", { isComposing: true }))).toBeNull();
  });

  it("ignores single keys typed into fields, not Ctrl/Alt combinations", () => {
    const input = { tagName: "INPUT" };
    expect(map.match(key("f", { target: input }))).toBeNull();
    expect(map.match(key(" ", { target: { tagName: "textarea" } }))).toBeNull();
    expect(map.match(key("Delete", { target: { tagName: "SELECT" } }))).toBeNull();
    expect(map.match(key("Tab", { target: { tagName: "DIV", isContentEditable: true } }))).toBeNull();
    expect(map.match(key("s", { ctrlKey: true, code: "KeyS", target: input }))).toBe("save_job");
    expect(map.match(key("µ", { altKey: true, code: "KeyM", target: input }))).toBe("split");
    expect(map.match(key("f", { target: { tagName: "BUTTON" } }))).toBe("next_frame");
  });
});

describe("rebinding", () => {
  it("is persisted per user and reloaded", () => {
    const store = storage();
    const map = new KeyMap("alice", store);
    map.rebind("next_frame", ["Right", "g"]);
    expect(map.bindings("next_frame")).toEqual(["right", "g"]);
    expect(map.match(key("ArrowRight"))).toBe("next_frame"); // before search_forward in the list
    expect(map.match(key("f"))).toBeNull();
    expect(JSON.parse(store.items.get("cvat.keymap.alice") ?? "null")).toEqual({ next_frame: ["right", "g"] });

    const again = new KeyMap("alice", store);
    expect(again.bindings("next_frame")).toEqual(["right", "g"]);
    expect(again.isCustomized("next_frame")).toBe(true);
    expect(new KeyMap("bob", store).bindings("next_frame")).toEqual(["f"]);
  });

  it("reports conflicts, and the first action in the list wins a shared key", () => {
    const map = new KeyMap("u", storage());
    map.rebind("switch_lock", ["f"]);
    expect(map.conflicts()).toEqual([{ keys: "f", actions: ["next_frame", "switch_lock"] }]);
    expect(map.match(key("f"))).toBe("next_frame");
    expect(map.actionFor("F")).toBe("next_frame");
  });

  it("reset restores one action or all, and forgets the stored entry", () => {
    const store = storage();
    const map = new KeyMap("u", store);
    let calls = 0;
    map.subscribe(() => calls++);
    map.rebind("undo", ["ctrl+u"]);
    map.rebind("redo", []);
    expect(map.bindings("redo")).toEqual([]);
    expect(map.match(key("y", { ctrlKey: true, code: "KeyY" }))).toBeNull();
    map.reset("undo");
    expect(map.bindings("undo")).toEqual(["ctrl+z"]);
    expect(map.bindings("redo")).toEqual([]);
    map.reset();
    expect(map.bindings("redo")).toEqual(["ctrl+shift+z", "ctrl+y"]);
    expect(store.items.has("cvat.keymap.u")).toBe(false);
    expect(map.isCustomized()).toBe(false);
    expect(calls).toBe(4);
  });

  it("binding the defaults again stores nothing; unknown actions are refused", () => {
    const store = storage();
    const map = new KeyMap("u", store);
    map.rebind("redo", ["Ctrl+Shift+Z", "ctrl+y"]);
    expect(store.items.size).toBe(0);
    expect(() => map.rebind("fly", ["x"])).toThrow(/fly/);
  });

  it("ignores broken or foreign stored data", () => {
    const store = storage();
    store.items.set("cvat.keymap.u", "{not json");
    expect(new KeyMap("u", store).bindings("undo")).toEqual(["ctrl+z"]);
    store.items.set("cvat.keymap.u", JSON.stringify({ undo: [1, 2], gone: ["x"], redo: ["Ctrl+R"] }));
    const map = new KeyMap("u", store);
    expect(map.bindings("undo")).toEqual(["ctrl+z"]);
    expect(map.bindings("redo")).toEqual(["ctrl+r"]);
  });
});
