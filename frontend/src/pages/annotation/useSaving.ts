// The workspace's saving: the Saver (PATCHes the store's changes to the job's annotations), the
// autosave interval from the settings, the save state the top bar shows, and the guards against
// leaving unsaved changes: `beforeunload`, and without a data router (no useBlocker) a confirmation
// for the workspace's own links.
import { useCallback, useContext, useEffect, useMemo, useState, type MouseEvent as ReactMouseEvent } from "react";
import { UNSAFE_DataRouterContext, useNavigate } from "react-router";
import { api } from "../../api/client";
import type { MergeReport, SaveState } from "../../annotation/contracts";
import type { ApiAnnotations } from "../../annotation/model";
import { Saver, type SaveIo } from "../../annotation/save";
import type { AnnotationStore } from "../../annotation/store";

/** The top bar's words for a save state. */
export function saveStatusText(state: SaveState): string {
  switch (state.status) {
    case "saved": {
      const text = state.at ? `Saved at ${state.at.toLocaleTimeString()}` : "Saved";
      return state.merged ? `${text}, merged with a save made meanwhile: ${mergeText(state.merged)}` : text;
    }
    case "dirty":
      return "Unsaved changes";
    case "saving":
      return "Saving…";
    case "error":
      return `Not saved: ${state.message}`;
    case "conflict":
      return state.message;
  }
}

/** "1 object of others taken in, 1 of yours deleted meanwhile saved again as new". */
export function mergeText(merged: MergeReport): string {
  const count = (n: number) => `${n} object${n === 1 ? "" : "s"}`;
  const parts = [
    merged.adopted ? `${count(merged.adopted)} of others taken in` : "",
    merged.recreated ? `${count(merged.recreated)} of yours that others deleted saved again as new` : "",
    merged.removed ? `${count(merged.removed)} deleted by others removed` : "",
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : "nothing of yours was lost";
}

/** What the leave guards need to render: a data router's blocker, or a link the user clicked. */
export interface LeaveGuardState {
  dataRouter: boolean;
  dirty: boolean;
  leaveTo: string | null;
  leave(): Promise<void> | void;
  stay(): void;
}

export interface Saving {
  saveState: SaveState;
  /** The save state with unsaved changes since the last save shown as "dirty". */
  shownState: SaveState;
  save(): Promise<SaveState>;
  dirty: boolean;
  /** onClickCapture of the workspace: its own links ask before leaving unsaved changes (without a data router). */
  guardLinks(event: ReactMouseEvent): void;
  leaveGuard: LeaveGuardState;
}

export function useSaving({ store, version, jobId, autosaveMinutes }: { store: AnnotationStore; version: number; jobId: number; autosaveMinutes: number }): Saving {
  const [saveState, setSaveState] = useState<SaveState>({ status: "saved", at: null });
  const [saver, setSaver] = useState<Saver | null>(null);

  useEffect(() => {
    const io: SaveIo = {
      patch: (action, body) => api.patch<ApiAnnotations>(`/api/jobs/${jobId}/annotations`, body, { action }),
      get: () => api.get<ApiAnnotations>(`/api/jobs/${jobId}/annotations`),
    };
    const created = new Saver(store, io, setSaveState);
    setSaver(created);
    setSaveState(created.state());
    return () => {
      created.destroy();
      setSaver(null);
    };
  }, [store, jobId]);

  useEffect(() => {
    saver?.setAutosave(autosaveMinutes * 60_000);
  }, [saver, autosaveMinutes]);

  const save = useCallback(async (): Promise<SaveState> => {
    if (!saver) return { status: "error", message: "The workspace is not ready." };
    return saver.save();
  }, [saver]);

  const dirty = useMemo(
    () => store.hasChanges(),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [store, version],
  );
  useEffect(() => {
    if (!dirty) return;
    const onUnload = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = "";
    };
    window.addEventListener("beforeunload", onUnload);
    return () => window.removeEventListener("beforeunload", onUnload);
  }, [dirty]);

  const dataRouter = useContext(UNSAFE_DataRouterContext);
  const navigate = useNavigate();
  const [leaveTo, setLeaveTo] = useState<string | null>(null);
  const guardLinks = (event: ReactMouseEvent) => {
    if (!dirty || dataRouter || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    const anchor = (event.target as HTMLElement).closest("a[href]");
    const href = anchor?.getAttribute("href");
    if (!anchor || !href || anchor.getAttribute("target") === "_blank" || !href.startsWith("/")) return;
    event.preventDefault();
    setLeaveTo(href);
  };

  const shownState: SaveState = saveState.status === "saved" && dirty ? { status: "dirty" } : saveState;
  const leaveGuard: LeaveGuardState = {
    dataRouter: Boolean(dataRouter),
    dirty,
    leaveTo,
    leave: () => (leaveTo ? navigate(leaveTo) : undefined),
    stay: () => setLeaveTo(null),
  };
  return { saveState, shownState, save, dirty, guardLinks, leaveGuard };
}
