// The workspace's keyboard: one keydown listener on the window (registered once per key map) that
// first lets the arrows, Enter and Space drive the engine's crosshair while a tool is active on the
// focused canvas, then maps the key to an action of the key map and runs it. The listener reads the
// latest `run` through a ref, so it sees the current state without being re-registered on renders.
// In a text field the field's own editing combinations (Ctrl+C, Ctrl+V, Ctrl+Z...) stay the field's.
import { useEffect, useRef, type RefObject } from "react";
import type { CanvasEngine } from "../../annotation/canvas/engine";
import { keyString, type KeyMap } from "../../annotation/keys";
import type { AnnotationStore } from "../../annotation/store";
import type { ObjectCommand } from "./ObjectsSidebar";
import type { Toggle } from "./useObjectActions";
import type { FrameMove } from "./usePlayback";

const POINTER_KEYS: Record<string, "left" | "right" | "up" | "down" | "click"> = {
  ArrowLeft: "left",
  ArrowRight: "right",
  ArrowUp: "up",
  ArrowDown: "down",
  Enter: "click",
  " ": "click",
};

const TEXT_EDITING = new Set(["ctrl+a", "ctrl+c", "ctrl+v", "ctrl+x", "ctrl+z", "ctrl+y", "ctrl+shift+z", "ctrl+left", "ctrl+right", "ctrl+backspace", "ctrl+delete", "ctrl+shift+left", "ctrl+shift+right"]);
const TEXT_INPUTS = new Set(["text", "search", "number", "email", "url", "tel", "password", ""]);

/** Whether a keydown's target is a field that takes typed text (not a checkbox, a select or a button). */
export function takesText(target: unknown): boolean {
  if (typeof target !== "object" || target === null) return false;
  const element = target as { tagName?: unknown; type?: unknown; isContentEditable?: unknown };
  if (element.isContentEditable === true) return true;
  const tag = typeof element.tagName === "string" ? element.tagName.toUpperCase() : "";
  if (tag === "TEXTAREA") return true;
  return tag === "INPUT" && TEXT_INPUTS.has(typeof element.type === "string" ? element.type.toLowerCase() : "");
}

/** A key combination the focused text field edits with (copy, paste, undo the typing...): no workspace action runs. */
export function isFieldEditingKey(sequence: string, target: unknown): boolean {
  return TEXT_EDITING.has(sequence) && takesText(target);
}

/** What the actions act on, as of the latest render. */
export interface KeyTargets {
  store: AnnotationStore;
  engine: CanvasEngine | null;
  selected: number | null;
  reviewing: boolean;
  setReviewing(reviewing: boolean): void;
  say(text: string): void;
  toggleShortcuts(): void;
  save(): void;
  move(delta: FrameMove): void;
  /** The next (previous) frame with objects that pass the filter. */
  search(direction: 1 | -1): void;
  togglePlay(): void;
  frameInputRef: RefObject<HTMLInputElement | null>;
  selectObject(id: number | null): void;
  goToKeyframe(id: number, direction: -1 | 1): void;
  cycleObject(direction: 1 | -1): void;
  drawAgain(): void;
  redraw(id: number): void;
  command(cmd: ObjectCommand): void;
  remove(id: number, force: boolean): void;
  toggle(what: Toggle): void;
  setLabelByIndex(index: number): void;
}

/** Runs a key map action; false when the action is not the workspace's. */
function runAction(action: string, t: KeyTargets): boolean {
  const label = /^switch_label_(\d+)$/.exec(action);
  if (label) {
    t.setLabelByIndex(Number(label[1]) - 1);
    return true;
  }
  const { engine, selected } = t;
  switch (action) {
    case "show_shortcuts":
      t.toggleShortcuts();
      return true;
    case "open_settings":
      document.querySelector<HTMLButtonElement>(".ws-settings-anchor > button")?.click();
      return true;
    case "save_job":
      t.save();
      return true;
    case "undo": {
      const name = t.store.undo();
      if (name) t.say(`Undone: ${name}`);
      return true;
    }
    case "redo": {
      const name = t.store.redo();
      if (name) t.say(`Redone: ${name}`);
      return true;
    }
    case "cancel": {
      const busy = engine !== null && engine.mode() !== "idle";
      if (busy) engine.cancel();
      if (t.reviewing) t.setReviewing(false);
      else if (!busy) t.selectObject(null);
      return true;
    }
    case "next_frame":
      t.move(1);
      return true;
    case "prev_frame":
      t.move(-1);
      return true;
    case "forward_frame":
      t.move("step");
      return true;
    case "backward_frame":
      t.move("-step");
      return true;
    case "search_forward":
      t.search(1);
      return true;
    case "search_backward":
      t.search(-1);
      return true;
    case "play_pause":
      t.togglePlay();
      return true;
    case "focus_frame_input":
      t.frameInputRef.current?.focus();
      t.frameInputRef.current?.select();
      return true;
    case "next_key_frame":
      if (selected !== null) t.goToKeyframe(selected, 1);
      return true;
    case "prev_key_frame":
      if (selected !== null) t.goToKeyframe(selected, -1);
      return true;
    case "next_object":
      t.cycleObject(1);
      return true;
    case "prev_object":
      t.cycleObject(-1);
      return true;
    case "draw_again":
      t.drawAgain();
      return true;
    case "redraw":
      if (selected === null) t.say("Select an object to draw it again (Shift+N).");
      else t.redraw(selected);
      return true;
    case "merge":
    case "split":
    case "group":
    case "ungroup":
      t.command(action);
      return true;
    case "delete_object":
    case "delete_object_force":
      if (selected !== null) t.remove(selected, action === "delete_object_force");
      return true;
    case "copy_object":
      t.command("copy");
      return true;
    case "paste_object":
      t.command("paste");
      return true;
    case "propagate_object":
      t.command("propagate");
      return true;
    case "switch_lock":
      t.toggle("locked");
      return true;
    case "switch_hidden":
      t.toggle("hidden");
      return true;
    case "switch_occluded":
      t.toggle("occluded");
      return true;
    case "switch_outside":
      t.toggle("outside");
      return true;
    case "switch_keyframe":
      t.toggle("keyframe");
      return true;
    case "to_foreground":
      t.command("front");
      return true;
    case "to_background":
      t.command("back");
      return true;
    case "zoom_in":
      engine?.zoomBy(1.25);
      return true;
    case "zoom_out":
      engine?.zoomBy(0.8);
      return true;
    default:
      return false;
  }
}

/** Listens to the keyboard; returns `run` for the buttons that share an action (undo, redo). */
export function useWorkspaceKeys(keymap: KeyMap, canvasRef: RefObject<HTMLDivElement | null>, engineRef: RefObject<CanvasEngine | null>, targets: KeyTargets): (action: string) => boolean {
  const run = (action: string): boolean => runAction(action, targets);
  const runRef = useRef(run);
  runRef.current = run;

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      // drawing from the keyboard: while a tool is active and the canvas has the focus, the
      // arrows move the engine's crosshair and Enter or Space clicks at it
      const current = engineRef.current;
      if (current && current.mode() !== "idle" && event.target === canvasRef.current && !event.ctrlKey && !event.altKey && !event.metaKey) {
        const pointerKey = POINTER_KEYS[event.key];
        if (pointerKey && current.keyboardPointer(pointerKey, event.shiftKey)) {
          event.preventDefault();
          return;
        }
      }
      // Backspace while drawing drops the last point put (polygon, polyline, points), as in CVAT
      if (current && current.mode() === "draw" && event.key === "Backspace" && !event.ctrlKey && !event.altKey && !event.metaKey && !takesText(event.target)) {
        if (current.undoPoint()) event.preventDefault();
        return;
      }
      const action = keymap.match(event);
      if (!action) return;
      if (isFieldEditingKey(keyString(event), event.target)) return;
      const target = event.target as HTMLElement | null;
      // Space and Enter on a focused button press it; Tab moves focus unless the canvas has it
      if (target?.tagName === "BUTTON" && (event.key === " " || event.key === "Enter")) return;
      if ((action === "next_object" || action === "prev_object") && target !== canvasRef.current && target !== document.body) return;
      if (target?.closest("dialog") && action !== "save_job") return;
      if (runRef.current(action)) event.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [keymap, canvasRef, engineRef]);

  return run;
}
