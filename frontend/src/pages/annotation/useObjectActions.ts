// The workspace's object commands, from the list, the toolbar and the keyboard: delete (locked
// objects only with force), copy and paste, to front / back, lock / hide / occluded / outside /
// keyframe, group and ungroup, merge and split tracks, propagate, to a track, the label, the
// keyframes of a track, and the labels panel's hide and lock. It also keeps the selection valid
// when the store drops a selected object (undo, merge, split).
import { useCallback, useEffect, useMemo, useRef, useState, type RefObject } from "react";
import { labelsForShape } from "../../annotation/labels";
import type { NewObject } from "../../annotation/contracts";
import type { FrameObject, LabelSpec } from "../../annotation/model";
import type { AnnotationStore } from "../../annotation/store";
import type { ObjectActions } from "./ObjectItem";
import type { ObjectCommand } from "./ObjectsSidebar";
import { neighbourKeyframes, prefetchWindow } from "./player";
import type { Selection } from "./useSelection";

export type Toggle = "locked" | "hidden" | "occluded" | "outside" | "keyframe";

interface ObjectActionsInput {
  store: AnnotationStore;
  version: number;
  labels: readonly LabelSpec[];
  frameRef: RefObject<number>;
  frameObjects: readonly FrameObject[];
  visible: readonly FrameObject[];
  playable: readonly number[];
  selection: Selection;
  say(text: string): void;
  setFrame(frame: number): void;
  /** The label of the next drawing. */
  chooseLabel(labelId: number): void;
  /** Paint on a mask (useDrawing's editMask). */
  editMask(clientId: number): void;
}

export interface ObjectCommands {
  remove(id: number, force: boolean): void;
  goToKeyframe(id: number, direction: -1 | 1): void;
  /** The list rows' actions (stable while the store is). */
  rowActions: ObjectActions;
  command(cmd: ObjectCommand): void;
  toggle(what: Toggle): void;
  /** Ctrl+1...: the label of the next drawing and of the selected object. */
  setLabelByIndex(index: number): void;
  /** Tab / Shift+Tab: the next (previous) shown object by id. */
  cycleObject(direction: 1 | -1): void;
  canPaste: boolean;
  /** The propagate dialog is open (for the selected object). */
  propagating: boolean;
  closePropagate(): void;
  propagate(count: number): void;
  /** The labels panel: every object of the label on the frame hidden / locked, and setting that. */
  labelView: { hidden(labelId: number): boolean; locked(labelId: number): boolean; hide(labelId: number, hidden: boolean): void; lock(labelId: number, locked: boolean): void };
}

export function useObjectActions(input: ObjectActionsInput): ObjectCommands {
  const { store, version, labels, frameRef, frameObjects, visible, playable, say, setFrame, chooseLabel } = input;
  const { selected, selection, setSelection, selectedRef, selectObject, selectionIds } = input.selection;
  const clipboard = useRef<NewObject | null>(null);
  const [canPaste, setCanPaste] = useState(false);
  const [propagating, setPropagating] = useState(false);

  // an undo (or a merge, a split) removed the selected object: nothing is selected; it left the
  // frame (or the filter): nothing is selected, but it stays in the multiple selection
  const { clearActive } = input.selection;
  // (a tag is never among the shown shapes: it stays selected while it is on this frame)
  useEffect(() => {
    const object = selected !== null ? store.get(selected) : undefined;
    const shown = (id: number) => visible.some((o) => o.clientId === id) || (object?.kind === "tag" && object.frame === frameRef.current);
    if (selected !== null && !object) selectObject(null);
    else if (selected !== null && !shown(selected)) clearActive();
    if ([...selection].some((id) => !store.get(id))) setSelection((current) => new Set([...current].filter((id) => store.get(id))));
  }, [store, version, selected, selection, selectObject, setSelection, visible, clearActive, frameRef]);

  const remove = useCallback(
    (id: number, force: boolean) => {
      if (!force && store.view(id).locked) {
        say(`Object #${id} is locked: unlock it first (or Shift+Delete).`);
        return;
      }
      store.remove([id]);
      if (selectedRef.current === id) selectObject(null);
    },
    [store, say, selectObject, selectedRef],
  );

  const goToKeyframe = useCallback(
    (id: number, direction: -1 | 1) => {
      const object = store.get(id);
      if (object?.kind !== "track") return;
      const { prev, next } = neighbourKeyframes(
        object.shapes.map((s) => s.frame),
        frameRef.current,
      );
      const target = direction < 0 ? prev : next;
      if (target === null) say(direction < 0 ? "No keyframe before this frame." : "No keyframe after this frame.");
      else setFrame(target);
    },
    [store, say, frameRef, setFrame],
  );

  const rowActions: ObjectActions = useMemo(
    () => ({
      select: (id, additive) => selectObject(id, additive),
      setLabel: (id, labelId) => store.setLabel(id, labelId),
      setView: (id, view) => store.setView(id, view),
      setFlag: (id, flag, value) => store.setFlag(id, frameRef.current, flag, value),
      keyframe: goToKeyframe,
      remove,
    }),
    [store, selectObject, goToKeyframe, remove, frameRef],
  );

  const command = (cmd: ObjectCommand) => {
    const id = selected;
    const f = frameRef.current;
    switch (cmd) {
      case "delete":
        if (id !== null) remove(id, false);
        return;
      case "copy":
        if (id === null) return;
        clipboard.current = store.snapshot(id, f);
        setCanPaste(clipboard.current !== null);
        say(clipboard.current ? `Copied object #${id}.` : "This object cannot be copied.");
        return;
      case "paste": {
        const copy = clipboard.current;
        if (!copy) return;
        const [created] = store.create([{ ...copy, frame: f, zOrder: undefined }]);
        if (created !== undefined) selectObject(created);
        return;
      }
      case "front":
        if (id !== null) store.toFront(id, f);
        return;
      case "edit_mask":
        if (id !== null) input.editMask(id);
        return;
      case "back":
        if (id !== null) store.toBack(id, f);
        return;
      case "propagate":
        if (id !== null && store.get(id)?.kind === "shape") setPropagating(true);
        return;
      case "to_track": {
        if (id === null) return;
        const track = store.toTrack(id, f);
        if (track !== null) selectObject(track);
        return;
      }
      case "split": {
        if (id === null || store.get(id)?.kind !== "track") {
          say("Select a track to split it at this frame.");
          return;
        }
        const parts = store.splitTrack(id, f);
        if (parts) selectObject(parts[1]);
        else say("The track cannot be split at this frame.");
        return;
      }
      case "group": {
        const ids = selectionIds();
        if (ids.length < 2) say("Ctrl+click two or more objects in the list, then group them.");
        else {
          store.group(ids);
          say(`Grouped ${ids.length} objects.`);
        }
        return;
      }
      case "ungroup": {
        const ids = selectionIds();
        if (ids.length) store.ungroup(ids);
        return;
      }
      case "merge": {
        // CVAT's merge: tracks and shapes (on other frames too) of one label and type become one track
        const parts = selectionIds().filter((i) => store.get(i)?.kind !== "tag");
        if (parts.length < 2) {
          say("Ctrl+click two or more tracks or shapes of one label and type (on any frames), then merge them.");
          return;
        }
        const merged = store.mergeTracks(parts);
        if (merged === null) say("These objects cannot be merged (one label and one shape type only).");
        else selectObject(merged);
        return;
      }
    }
  };

  const toggle = (what: Toggle) => {
    if (selected === null) return;
    const f = frameRef.current;
    if (what === "locked" || what === "hidden") {
      const view = store.view(selected);
      store.setView(selected, { [what]: !view[what] });
      return;
    }
    const object = frameObjects.find((o) => o.clientId === selected);
    if (!object) return;
    if (what !== "occluded" && object.kind !== "track") return;
    store.setFlag(selected, f, what, !object[what]);
  };

  const setLabelByIndex = (index: number) => {
    const label = labels[index];
    if (!label) return;
    chooseLabel(label.id);
    if (selected === null) {
      say(`Next drawing: ${label.name}.`);
      return;
    }
    const object = store.get(selected);
    const type = object?.kind === "tag" ? "tag" : object?.kind === "shape" || object?.kind === "track" ? frameObjects.find((o) => o.clientId === selected)?.type : undefined;
    if (type && labelsForShape(labels, type).some((l) => l.id === label.id)) store.setLabel(selected, label.id);
    else say(`"${label.name}" cannot be the label of this object.`);
  };

  const cycleObject = (direction: 1 | -1) => {
    const list = [...visible].sort((a, b) => a.clientId - b.clientId);
    if (list.length === 0) return;
    const at = list.findIndex((o) => o.clientId === selected);
    const next = list[(at + direction + list.length) % list.length] ?? list[0]!;
    selectObject(next.clientId);
  };

  const propagate = (count: number) => {
    if (selected === null) return;
    const targets = prefetchWindow(playable, frameRef.current, count);
    const created = store.propagate(selected, frameRef.current, targets);
    say(`Propagated object #${selected} to ${created.length} frame${created.length === 1 ? "" : "s"}.`);
  };

  const labelObjects = (labelId: number) => frameObjects.filter((o) => o.labelId === labelId);
  const labelView = {
    hidden: (id: number) => {
      const list = labelObjects(id);
      return list.length > 0 && list.every((o) => store.view(o.clientId).hidden);
    },
    locked: (id: number) => {
      const list = labelObjects(id);
      return list.length > 0 && list.every((o) => store.view(o.clientId).locked);
    },
    hide: (id: number, hidden: boolean) => labelObjects(id).forEach((o) => store.setView(o.clientId, { hidden })),
    lock: (id: number, locked: boolean) => labelObjects(id).forEach((o) => store.setView(o.clientId, { locked })),
  };

  return { remove, goToKeyframe, rowActions, command, toggle, setLabelByIndex, cycleObject, canPaste, propagating, closePropagate: () => setPropagating(false), propagate, labelView };
}
