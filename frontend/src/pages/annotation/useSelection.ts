// The workspace's selection: the selected object (the one the canvas highlights and the commands act
// on) and the list's Ctrl+click selection for group, ungroup and merge. selectedRef gives engine
// events and effects the latest selection without re-subscribing; the canvas is told quietly (its
// own select event would echo back otherwise).
import { useCallback, useRef, useState, type Dispatch, type RefObject, type SetStateAction } from "react";
import type { EngineEvents } from "../../annotation/canvas/types";

export interface Selection {
  selected: number | null;
  selection: ReadonlySet<number>;
  setSelection: Dispatch<SetStateAction<ReadonlySet<number>>>;
  selectedRef: RefObject<number | null>;
  /** Select one object (or none); additive: toggle it in the multiple selection (Ctrl+click). */
  selectObject(id: number | null, additive?: boolean): void;
  /** The multiple selection and the selected object. */
  selectionIds(): number[];
  /** The selected object left the frame: nothing is selected, the multiple selection stays (so
   * objects on several frames can be merged or grouped, as in CVAT). */
  clearActive(): void;
  /** The engine's event: the user clicked an object (or the background). */
  events: Pick<EngineEvents, "select">;
}

export function useSelection(selectQuietly: (id: number | null) => void): Selection {
  const [selected, setSelected] = useState<number | null>(null);
  const [selection, setSelection] = useState<ReadonlySet<number>>(new Set());
  const selectedRef = useRef(selected);
  selectedRef.current = selected;

  const selectObject = useCallback(
    (id: number | null, additive = false) => {
      if (additive && id !== null) {
        setSelection((current) => {
          const next = new Set(current);
          if (selectedRef.current !== null) next.add(selectedRef.current);
          if (next.has(id)) next.delete(id);
          else next.add(id);
          return next;
        });
      } else setSelection(new Set(id === null ? [] : [id]));
      setSelected(id);
      selectedRef.current = id;
      selectQuietly(id);
    },
    [selectQuietly],
  );

  const clearActive = useCallback(() => {
    if (selectedRef.current !== null) setSelection((current) => (current.size ? current : new Set([selectedRef.current!])));
    setSelected(null);
    selectedRef.current = null;
  }, []);

  const selectionIds = (): number[] => {
    const ids = new Set(selection);
    if (selected !== null) ids.add(selected);
    return [...ids];
  };

  const events: Pick<EngineEvents, "select"> = {
    select: (id, additive) => {
      if (additive) {
        selectObject(id, true); // Ctrl+click on the canvas, as in the list
        return;
      }
      setSelected(id);
      selectedRef.current = id;
      setSelection(new Set(id === null ? [] : [id]));
    },
  };

  return { selected, selection, setSelection, selectedRef, selectObject, selectionIds, clearActive, events };
}
