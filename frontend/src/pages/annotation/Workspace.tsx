// The annotation workspace (/tasks/:tid/jobs/:jid): a full-window page with a top bar (job menu,
// save and undo, the player, review, settings, shortcuts), the drawing toolbar on the left, the
// canvas in the centre and the objects / labels / issues sidebar on the right.
//
// React owns the panels only. The canvas is the framework-free engine (createEngine): the page
// hands it the frame's image and the frame's objects in effects, and hears back through its
// events. The store's version re-renders the page once per edit; zoom and the pointer position
// are written straight into the status bar, never through React state.
import { lazy, Suspense, useCallback, useContext, useEffect, useMemo, useRef, useState, type MouseEvent as ReactMouseEvent } from "react";
import { Link, UNSAFE_DataRouterContext, useBlocker, useNavigate, useParams, useSearchParams } from "react-router";
import { api } from "../../api/client";
import { useSession } from "../../auth/session";
import { createEngine, type CanvasEngine } from "../../annotation/canvas/engine";
import { setBrushSize, setMaskTool } from "../../annotation/canvas/tools";
import { parseSkeletonTemplate } from "../../annotation/canvas/tools/skeletonTemplate";
import type { DrawRequest, EngineEvents } from "../../annotation/canvas/types";
import type { FrameImage, FrameProviderApi, NewObject, ObjectFilter, SaveState } from "../../annotation/contracts";
import { jobFrames } from "../../annotation/frames/chunks";
import { FrameProvider } from "../../annotation/frames/provider";
import { KeyMap } from "../../annotation/keys";
import { labelIndex, labelSpecs, labelsForShape } from "../../annotation/labels";
import type { ApiAnnotations, ShapeType } from "../../annotation/model";
import { compileFilter, parseFilterInput } from "../../annotation/objectFilter";
import { Saver, type SaveIo } from "../../annotation/save";
import { AnnotationStore } from "../../annotation/store";
import { ConfirmDialog, Dialog, ErrorBanner, Loading, messageOf } from "../../components/ui";
import { JobMenu } from "./JobMenu";
import { LabelsPanel } from "./LabelsPanel";
import type { ObjectActions } from "./ObjectItem";
import { ObjectsSidebar, type ObjectCommand, type SortBy } from "./ObjectsSidebar";
import { DEFAULT_FPS, firstFrame, frameInterval, frameName, lastFrame, moveFrame, neighbourKeyframes, playableFrames, playTick, prefetchCount, prefetchWindow } from "./player";
import { PlayerBar } from "./PlayerBar";
import { firstMessages, issueMarkers, newIssue, regionPosition, replaceIssue, type Issue, type IssueComment } from "./review";
import { SettingsPanel } from "./SettingsPanel";
import { DEFAULT_DRAW_OPTIONS, Popover, Toolbar, type DrawKind, type DrawOptions } from "./Toolbar";
import { useStoreVersion, useWorkspaceData, useWorkspaceSettings, type JobRead, type WorkspaceData } from "./useWorkspace";
import "./workspace.css";

const IssuesPanel = lazy(() => import("./IssuesPanel").then((m) => ({ default: m.IssuesPanel })));
const ShortcutsDialog = lazy(() => import("./ShortcutsDialog").then((m) => ({ default: m.ShortcutsDialog })));

/**
 * Test hook for the e2e tests and the UI benchmark (benchmarks/ui_workspace.py), not an API: the
 * page's store and engine, the current frame, whether the first frame is shown (`ready`, and
 * `readyAt`: performance.now() one animation frame after the first image and its objects were
 * handed to the engine), the objects the engine draws, and the player: `play()`, `playing()` and
 * `playLog` (per frame shown while playing: ms from the moment the player wanted it, a frame
 * interval after the previous one, to its bitmap handed to the canvas; buffering included).
 */
export interface WorkspaceTestHook {
  store: AnnotationStore;
  engine: CanvasEngine | null;
  frame(): number;
  readonly ready: boolean;
  readonly readyAt: number | undefined;
  setFrame(frame: number): void;
  drawnObjects(): number;
  play(): void;
  playing(): boolean;
  playLog: { frame: number; ms: number }[];
}

declare global {
  interface Window {
    __cvatWorkspace?: WorkspaceTestHook;
  }
}

const POINTER_KEYS: Record<string, "left" | "right" | "up" | "down" | "click"> = {
  ArrowLeft: "left",
  ArrowRight: "right",
  ArrowUp: "up",
  ArrowDown: "down",
  Enter: "click",
  " ": "click",
};

/** The filter box's text as a filter: none when empty; the parse error's message when it does not parse. */
export function buildFilter(text: string): { filter: ObjectFilter | null; error: string | null } {
  if (!text.trim()) return { filter: null, error: null };
  try {
    return { filter: compileFilter(parseFilterInput(text)), error: null };
  } catch (error) {
    return { filter: null, error: messageOf(error) };
  }
}

/** The top bar's words for a save state. */
export function saveStatusText(state: SaveState): string {
  switch (state.status) {
    case "saved":
      return state.at ? `Saved at ${state.at.toLocaleTimeString()}` : "Saved";
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

export default function Workspace() {
  const params = useParams();
  const jid = Number(params.jid);
  const loaded = useWorkspaceData(jid);
  if (loaded.error)
    return (
      <section className="ws-message">
        <h1>Job #{params.jid}</h1>
        <ErrorBanner error={loaded.error} onRetry={loaded.reload} />
        <Link to="/jobs">Jobs</Link>
      </section>
    );
  if (!loaded.data || loaded.data.job.id !== jid) return <Loading what="Loading the job" />;
  return <WorkspaceView key={jid} data={loaded.data} taskInUrl={Number(params.tid)} />;
}

/** react-router's blocker exists only under a data router; with a plain BrowserRouter only `beforeunload` guards. */
function NavigationGuard({ when }: { when: boolean }) {
  const blocker = useBlocker(when);
  const leaving = useRef(false);
  if (blocker.state !== "blocked") return null;
  return (
    <ConfirmDialog
      title="Leave the workspace?"
      message="Some changes of the annotations are not saved. They are lost if you leave."
      confirm="Leave"
      onConfirm={() => {
        leaving.current = true;
        blocker.proceed();
      }}
      onClose={() => {
        if (!leaving.current) blocker.reset();
        leaving.current = false;
      }}
    />
  );
}

type Tab = "objects" | "labels" | "issues";
interface DrawState {
  type: ShapeType;
  kind: DrawKind;
  labelId: number;
}

function WorkspaceView({ data, taskInUrl }: { data: WorkspaceData; taskInUrl: number }) {
  const { user } = useSession();
  const [job, setJob] = useState<JobRead>(data.job);
  const labels = useMemo(() => labelSpecs(data.labels), [data.labels]);
  const labelById = useMemo(() => labelIndex(labels), [labels]);
  const colorOf = useCallback((id: number) => labelById.get(id)?.color ?? "#ff6a00", [labelById]);
  const [store] = useState(() => {
    const s = new AnnotationStore(labels, { start: data.job.start_frame, stop: data.job.stop_frame });
    s.load(data.annotations);
    return s;
  });
  const version = useStoreVersion(store);
  const [settings, updateSettings] = useWorkspaceSettings();
  const taskFps = data.meta.frame_rate && data.meta.frame_rate > 0 ? data.meta.frame_rate : DEFAULT_FPS;
  const playFps = settings.fps ?? taskFps;
  const frames = useMemo(() => jobFrames(data.meta, data.job.start_frame), [data.meta, data.job.start_frame]);
  const deleted = useMemo(() => new Set(data.meta.deleted_frames), [data.meta]);
  const playable = useMemo(() => playableFrames(frames, deleted, settings.showDeleted), [frames, deleted, settings.showDeleted]);
  const [searchParams] = useSearchParams();
  const [frame, setFrame] = useState(() => {
    const asked = Number(searchParams.get("frame"));
    return searchParams.get("frame") !== null && playable.includes(asked) ? asked : firstFrame(playable, data.job.start_frame);
  });
  const frameRef = useRef(frame);
  frameRef.current = frame;
  const playableRef = useRef(playable);
  playableRef.current = playable;

  const [selected, setSelected] = useState<number | null>(null);
  const [selection, setSelection] = useState<ReadonlySet<number>>(new Set());
  const selectedRef = useRef(selected);
  selectedRef.current = selected;
  const [tab, setTab] = useState<Tab>("objects");
  const [filterText, setFilterText] = useState("");
  const { filter, error: filterError } = useMemo(() => buildFilter(filterText), [filterText]);
  const [showOutside, setShowOutside] = useState(false);
  const [sortBy, setSortBy] = useState<SortBy>("id");
  const [playing, setPlaying] = useState(false);
  const [drawOptions, setDrawOptions] = useState<DrawOptions>(() => ({ ...DEFAULT_DRAW_OPTIONS, labelId: labels[0]?.id ?? null }));
  const [drawing, setDrawing] = useState<ShapeType | null>(null);
  const drawRef = useRef<DrawState | null>(null);
  const lastDrawRef = useRef<DrawState | null>(null);
  const clipboard = useRef<NewObject | null>(null);
  const [canPaste, setCanPaste] = useState(false);
  const [notice, setNotice] = useState("");
  const [frameError, setFrameError] = useState<unknown>(null);
  const [frameTry, setFrameTry] = useState(0);
  const [shortcutsOpen, setShortcutsOpen] = useState(false);
  const [propagating, setPropagating] = useState(false);
  const [reviewing, setReviewing] = useState(false);
  const [newIssueAt, setNewIssueAt] = useState<[number, number, number, number] | null>(null);
  const [issues, setIssues] = useState<Issue[]>(data.issues);
  const [messages, setMessages] = useState<ReadonlyMap<number, string>>(() => firstMessages(data.comments));
  const [selectedIssue, setSelectedIssue] = useState<number | null>(null);
  const [saveState, setSaveState] = useState<SaveState>({ status: "saved", at: null });
  const [saver, setSaver] = useState<Saver | null>(null);
  const keymap = useMemo(() => new KeyMap(String(user?.id ?? "anonymous")), [user?.id]);

  const canvasRef = useRef<HTMLDivElement>(null);
  const zoomRef = useRef<HTMLSpanElement>(null);
  const pointerRef = useRef<HTMLSpanElement>(null);
  const frameInputRef = useRef<HTMLInputElement>(null);
  const [engine, setEngine] = useState<CanvasEngine | null>(null);
  const engineRef = useRef<CanvasEngine | null>(null);
  engineRef.current = engine;
  const [provider, setProvider] = useState<FrameProviderApi | null>(null);
  const readyRef = useRef(false);
  const readyAtRef = useRef<number | undefined>(undefined);
  const playingRef = useRef(false);
  const playAsked = useRef(new Map<number, number>()); // frame -> when the play loop wanted it
  const playLog = useRef<{ frame: number; ms: number }[]>([]);
  const handlers = useRef<Partial<EngineEvents>>({});
  const echo = useRef(false); // engine.select called by the page: its select event is not a user's click

  const say = useCallback((text: string) => setNotice(text), []);
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => setNotice(""), 6000);
    return () => clearTimeout(timer);
  }, [notice]);

  // --- the engine, the frames, the saver ------------------------------------------------------------

  useEffect(() => {
    const div = canvasRef.current;
    if (!div) return;
    const h = handlers;
    const created = createEngine(div, {
      select: (id) => h.current.select?.(id),
      hover: (id) => h.current.hover?.(id),
      drawn: (result) => h.current.drawn?.(result),
      drawCancelled: () => h.current.drawCancelled?.(),
      edited: (result) => h.current.edited?.(result),
      region: (points) => h.current.region?.(points),
      issueClicked: (id) => h.current.issueClicked?.(id),
      view: (transform) => h.current.view?.(transform),
      pointer: (point) => h.current.pointer?.(point),
      contextMenu: (id, screen) => h.current.contextMenu?.(id, screen),
    });
    setEngine(created);
    const observer = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(() => created.resize());
    observer?.observe(div);
    return () => {
      observer?.disconnect();
      created.destroy();
      setEngine(null);
    };
  }, []);

  useEffect(() => {
    const created = new FrameProvider({ jobId: data.job.id, meta: data.meta, startFrame: data.job.start_frame });
    setProvider(created);
    return () => {
      created.destroy();
      setProvider(null);
    };
  }, [data]);

  useEffect(() => {
    const jobId = data.job.id;
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
  }, [store, data.job.id]);

  useEffect(() => {
    saver?.setAutosave(settings.autosaveMinutes * 60_000);
  }, [saver, settings.autosaveMinutes]);

  // the frame's image: at once when it is decoded already (playing), else when it arrives
  useEffect(() => {
    if (!provider || !engine) return;
    let current = true;
    const show = (image: FrameImage) => {
      if (!current) return;
      engine.setFrame(image.bitmap, image.width, image.height);
      const asked = playAsked.current.get(image.frame);
      if (asked !== undefined) {
        playAsked.current.delete(image.frame);
        playLog.current.push({ frame: image.frame, ms: performance.now() - asked });
      }
      if (!readyRef.current) {
        readyRef.current = true;
        requestAnimationFrame(() => {
          readyAtRef.current ??= performance.now();
        });
      }
    };
    setFrameError(null);
    const ready = provider.peek(frame);
    if (ready) show(ready);
    else
      provider.get(frame).then(show, (error: unknown) => {
        if (current) setFrameError(error);
      });
    return () => {
      current = false;
    };
  }, [frame, provider, engine, frameTry]);

  // "show deleted frames" turned off on a deleted frame: the next frame that can be shown
  useEffect(() => {
    if (!settings.showDeleted && deleted.has(frame) && playable.length) setFrame(moveFrame(playable, frame, 1));
  }, [settings.showDeleted, deleted, frame, playable]);

  // not playing: keep the neighbours decoded (the play loop asks for its own window)
  useEffect(() => {
    if (!provider || playing) return;
    provider.prefetch(prefetchWindow(playable, frame, 8));
  }, [provider, playing, playable, frame]);

  // the play loop: the next frame once a frame interval has passed and it is decoded, never further
  playingRef.current = playing;
  useEffect(() => {
    if (!playing || !provider) return;
    const fps = playFps;
    let raf = 0;
    let shownAt = performance.now();
    let askedAt = shownAt;
    provider.prefetch(prefetchWindow(playableRef.current, frameRef.current, prefetchCount(fps)));
    const tick = () => {
      const now = performance.now();
      const step = playTick(playableRef.current, frameRef.current, shownAt, now, fps, (f) => provider.peek(f) !== null);
      if (step.action === "stop") {
        setPlaying(false);
        return;
      }
      if (step.action === "show") {
        playAsked.current.set(step.frame, shownAt + frameInterval(fps));
        shownAt = step.at;
        askedAt = now;
        frameRef.current = step.frame;
        setFrame(step.frame);
        provider.prefetch(prefetchWindow(playableRef.current, step.frame, prefetchCount(fps)));
      } else if (now - askedAt > 500) {
        askedAt = now; // buffering: ask again (a decode may have failed)
        provider.prefetch(prefetchWindow(playableRef.current, frameRef.current, prefetchCount(fps)));
      }
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
  }, [playing, provider, playFps]);

  // --- objects on the canvas ----------------------------------------------------------------------

  const frameObjects = useMemo(
    () => store.frameObjects(frame),
    // version: the store changed
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [store, frame, version],
  );
  const frameTags = useMemo(
    () => store.frameTags(frame),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [store, frame, version],
  );
  const visible = useMemo(() => frameObjects.filter((o) => (showOutside || !o.outside) && (!filter || filter(o, labelById))), [frameObjects, showOutside, filter, labelById]);

  useEffect(() => {
    if (!engine) return;
    engine.setObjects(visible, colorOf, store.views());
    // an object selected before the engine had it (just created, pasted, made a track): select it now
    const wanted = selectedRef.current;
    if (wanted !== null && engine.selected() !== wanted && !store.view(wanted).hidden && visible.some((o) => o.clientId === wanted)) {
      echo.current = true;
      try {
        engine.select(wanted);
      } finally {
        echo.current = false;
      }
    }
    // version: the views (lock, hide, pin) changed
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [engine, visible, colorOf, store, version]);

  useEffect(() => {
    if (!engine) return;
    for (const label of labels) {
      if (label.type === "skeleton" && label.svg) engine.setSkeletonEdges(label.id, parseSkeletonTemplate(label.svg, label.sublabels).edges);
    }
  }, [engine, labels]);

  useEffect(() => {
    engine?.setFilters({ brightness: settings.brightness, contrast: settings.contrast, saturation: settings.saturation });
  }, [engine, settings.brightness, settings.contrast, settings.saturation]);

  useEffect(() => {
    engine?.setAppearance({ opacity: settings.opacity / 100, selectedOpacity: settings.selectedOpacity / 100, outlineWidth: settings.outlineWidth, showText: settings.showText });
  }, [engine, settings.opacity, settings.selectedOpacity, settings.outlineWidth, settings.showText]);

  useEffect(() => {
    engine?.setIssues(issueMarkers(issues, frame, selectedIssue));
  }, [engine, issues, frame, selectedIssue]);

  // review: region mode while "Review" is on and no issue is being written
  useEffect(() => {
    if (!engine || !reviewing || newIssueAt) return;
    engine.startRegion();
    return () => {
      if (engine.mode() === "region") engine.cancel();
    };
  }, [engine, reviewing, newIssueAt]);

  // --- selection ------------------------------------------------------------------------------------

  const selectObject = useCallback((id: number | null, additive = false) => {
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
    echo.current = true;
    try {
      engineRef.current?.select(id);
    } finally {
      echo.current = false;
    }
  }, []);

  // an undo (or a merge, a split) removed the selected object: nothing is selected
  useEffect(() => {
    if (selected !== null && !store.get(selected)) selectObject(null);
    if ([...selection].some((id) => !store.get(id))) setSelection((current) => new Set([...current].filter((id) => store.get(id))));
  }, [store, version, selected, selection, selectObject]);

  const selectionIds = (): number[] => {
    const ids = new Set(selection);
    if (selected !== null) ids.add(selected);
    return [...ids];
  };

  // --- drawing ----------------------------------------------------------------------------------------

  const startDraw = (type: ShapeType, kind: DrawKind, labelId: number) => {
    const label = labelById.get(labelId);
    if (!engine || !label) return;
    if (engine.mode() !== "idle") engine.cancel();
    setReviewing(false);
    setPlaying(false);
    if (type === "mask") {
      setMaskTool(drawOptions.maskTool);
      setBrushSize(drawOptions.brushSize);
    }
    const request: DrawRequest = { type, labelId, color: label.color };
    if (type === "rectangle") request.rectangleBy = drawOptions.rectangleBy;
    if (type === "polygon" || type === "polyline" || type === "points") request.pointsCount = drawOptions.pointsCount[type];
    if (type === "mask") request.brushSize = drawOptions.brushSize;
    if (type === "skeleton") request.skeleton = parseSkeletonTemplate(label.svg, label.sublabels);
    const state = { type, kind: type === "mask" ? "shape" : kind, labelId };
    drawRef.current = state;
    lastDrawRef.current = state;
    setDrawing(type);
    setDrawOptions((o) => ({ ...o, labelId }));
    engine.startDraw(request);
    canvasRef.current?.focus();
  };

  const addTag = (labelId: number) => {
    const [id] = store.create([{ kind: "tag", frame: frameRef.current, labelId }]);
    if (id !== undefined) selectObject(id);
    setDrawOptions((o) => ({ ...o, labelId }));
  };

  // --- saving -----------------------------------------------------------------------------------------

  const save = useCallback(async (): Promise<SaveState> => {
    if (!saver) return { status: "error", message: "The workspace is not ready." };
    return saver.save();
  }, [saver]);

  const dirty = useMemo(
    () => store.hasChanges(),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [store, version],
  );
  const objectCount = useMemo(
    () => store.objects().length,
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
  /** Without a data router (no useBlocker): the workspace's own links ask before leaving unsaved changes. */
  const guardLinks = (event: ReactMouseEvent) => {
    if (!dirty || dataRouter || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    const anchor = (event.target as HTMLElement).closest("a[href]");
    const href = anchor?.getAttribute("href");
    if (!anchor || !href || anchor.getAttribute("target") === "_blank" || !href.startsWith("/")) return;
    event.preventDefault();
    setLeaveTo(href);
  };

  // --- object actions -------------------------------------------------------------------------------

  const remove = useCallback(
    (id: number, force: boolean) => {
      if (!force && store.view(id).locked) {
        say(`Object #${id} is locked: unlock it first (or Shift+Delete).`);
        return;
      }
      store.remove([id]);
      if (selectedRef.current === id) selectObject(null);
    },
    [store, say, selectObject],
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
    [store, say],
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
    [store, selectObject, goToKeyframe, remove],
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
        const tracks = selectionIds().filter((i) => store.get(i)?.kind === "track");
        if (tracks.length < 2) {
          say("Ctrl+click two or more tracks of one label and type in the list, then merge them.");
          return;
        }
        const merged = store.mergeTracks(tracks);
        if (merged === null) say("These tracks cannot be merged (one label and one shape type only).");
        else selectObject(merged);
        return;
      }
    }
  };

  const toggle = (what: "locked" | "hidden" | "occluded" | "outside" | "keyframe") => {
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
    setDrawOptions((o) => ({ ...o, labelId: label.id }));
    if (selected === null) {
      say(`Next drawing: ${label.name}.`);
      return;
    }
    const object = store.get(selected);
    const type = object?.kind === "tag" ? "tag" : object?.kind === "shape" || object?.kind === "track" ? frameObjects.find((o) => o.clientId === selected)?.type : undefined;
    if (type && labelsForShape(labels, type).some((l) => l.id === label.id)) store.setLabel(selected, label.id);
    else say(`"${label.name}" cannot be the label of this object.`);
  };

  // --- frames ---------------------------------------------------------------------------------------

  const move = (delta: number | "first" | "last" | "step" | "-step") => {
    const f = frameRef.current;
    const next =
      delta === "first"
        ? firstFrame(playable, f)
        : delta === "last"
          ? lastFrame(playable, f)
          : delta === "step"
            ? moveFrame(playable, f, settings.step)
            : delta === "-step"
              ? moveFrame(playable, f, -settings.step)
              : moveFrame(playable, f, delta);
    setFrame(next);
  };

  /** The next (or previous) frame with objects that pass the filter (any objects without one). */
  const search = (direction: 1 | -1) => {
    let f = frameRef.current;
    for (let i = 0; i < playable.length; i++) {
      const next = moveFrame(playable, f, direction);
      if (next === f) break;
      f = next;
      const found = store.frameObjects(f).some((o) => !o.outside && (!filter || filter(o, labelById)));
      if (found) {
        setFrame(f);
        return;
      }
    }
    say("No other frame with such objects.");
  };

  const cycleObject = (direction: 1 | -1) => {
    const list = [...visible].sort((a, b) => a.clientId - b.clientId);
    if (list.length === 0) return;
    const at = list.findIndex((o) => o.clientId === selected);
    const next = list[(at + direction + list.length) % list.length] ?? list[0]!;
    selectObject(next.clientId);
  };

  // --- engine events (refreshed every render: they read the latest state) ---------------------------

  handlers.current = {
    select: (id) => {
      if (echo.current) return;
      setSelected(id);
      selectedRef.current = id;
      setSelection(new Set(id === null ? [] : [id]));
    },
    drawn: (result) => {
      const state = drawRef.current;
      drawRef.current = null;
      setDrawing(null);
      const kind = state?.kind ?? "shape";
      const [id] = store.create([
        { kind, type: result.type, frame: frameRef.current, labelId: result.labelId, points: result.points, rotation: result.rotation, elements: result.elements },
      ]);
      if (id !== undefined) selectObject(id);
    },
    drawCancelled: () => {
      drawRef.current = null;
      setDrawing(null);
    },
    edited: (result) => store.setGeometry(result.clientId, frameRef.current, { points: result.points, rotation: result.rotation, elements: result.elements }),
    region: (points) => {
      const position = regionPosition(points);
      if (position) setNewIssueAt(position);
      else if (reviewing) engine?.startRegion();
    },
    issueClicked: (id) => {
      setSelectedIssue(id);
      setTab("issues");
    },
    view: (transform) => {
      if (zoomRef.current) zoomRef.current.textContent = `${Math.round(transform.scale * 100)}%`;
    },
    pointer: (point) => {
      if (pointerRef.current) pointerRef.current.textContent = point ? `${Math.round(point.x)}, ${Math.round(point.y)}` : "";
    },
  };

  // --- keyboard -----------------------------------------------------------------------------------------

  const run = (action: string): boolean => {
    const label = /^switch_label_(\d+)$/.exec(action);
    if (label) {
      setLabelByIndex(Number(label[1]) - 1);
      return true;
    }
    switch (action) {
      case "show_shortcuts":
        setShortcutsOpen((o) => !o);
        return true;
      case "open_settings":
        document.querySelector<HTMLButtonElement>(".ws-settings-anchor > button")?.click();
        return true;
      case "save_job":
        void save();
        return true;
      case "undo": {
        const name = store.undo();
        if (name) say(`Undone: ${name}`);
        return true;
      }
      case "redo": {
        const name = store.redo();
        if (name) say(`Redone: ${name}`);
        return true;
      }
      case "cancel": {
        const busy = engine !== null && engine.mode() !== "idle";
        if (busy) engine.cancel();
        if (reviewing) setReviewing(false);
        else if (!busy) selectObject(null);
        return true;
      }
      case "next_frame":
        move(1);
        return true;
      case "prev_frame":
        move(-1);
        return true;
      case "forward_frame":
        move("step");
        return true;
      case "backward_frame":
        move("-step");
        return true;
      case "search_forward":
        search(1);
        return true;
      case "search_backward":
        search(-1);
        return true;
      case "play_pause":
        setPlaying((p) => !p);
        return true;
      case "focus_frame_input":
        frameInputRef.current?.focus();
        frameInputRef.current?.select();
        return true;
      case "next_key_frame":
        if (selected !== null) goToKeyframe(selected, 1);
        return true;
      case "prev_key_frame":
        if (selected !== null) goToKeyframe(selected, -1);
        return true;
      case "next_object":
        cycleObject(1);
        return true;
      case "prev_object":
        cycleObject(-1);
        return true;
      case "draw_again": {
        if (engine?.mode() === "draw") {
          engine.finishDraw();
          return true;
        }
        const last = lastDrawRef.current;
        if (last) startDraw(last.type, last.kind, last.labelId);
        else say("Draw a shape with the toolbar first; N repeats it.");
        return true;
      }
      case "merge":
      case "split":
      case "group":
      case "ungroup":
        command(action);
        return true;
      case "delete_object":
      case "delete_object_force":
        if (selected !== null) remove(selected, action === "delete_object_force");
        return true;
      case "copy_object":
        command("copy");
        return true;
      case "paste_object":
        command("paste");
        return true;
      case "propagate_object":
        command("propagate");
        return true;
      case "switch_lock":
        toggle("locked");
        return true;
      case "switch_hidden":
        toggle("hidden");
        return true;
      case "switch_occluded":
        toggle("occluded");
        return true;
      case "switch_outside":
        toggle("outside");
        return true;
      case "switch_keyframe":
        toggle("keyframe");
        return true;
      case "to_foreground":
        command("front");
        return true;
      case "to_background":
        command("back");
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
  };
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
      const action = keymap.match(event);
      if (!action) return;
      const target = event.target as HTMLElement | null;
      // Space and Enter on a focused button press it; Tab moves focus unless the canvas has it
      if (target?.tagName === "BUTTON" && (event.key === " " || event.key === "Enter")) return;
      if ((action === "next_object" || action === "prev_object") && target !== canvasRef.current && target !== document.body) return;
      if (target?.closest("dialog") && action !== "save_job") return;
      if (runRef.current(action)) event.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [keymap]);

  // --- the test hook ------------------------------------------------------------------------------------

  useEffect(() => {
    const hook: WorkspaceTestHook = {
      store,
      engine,
      frame: () => frameRef.current,
      get ready() {
        return readyRef.current && engineRef.current !== null;
      },
      get readyAt() {
        return readyAtRef.current;
      },
      setFrame: (n: number) => setFrame(n),
      drawnObjects: () => engineRef.current?.renderedCount() ?? 0,
      play: () => setPlaying(true),
      playing: () => playingRef.current,
      playLog: playLog.current,
    };
    window.__cvatWorkspace = hook;
    return () => {
      if (window.__cvatWorkspace === hook) delete window.__cvatWorkspace;
    };
  }, [store, engine]);

  // --- render ----------------------------------------------------------------------------------------------

  const undoName = store.undoName();
  const redoName = store.redoName();
  const shownState: SaveState = saveState.status === "saved" && dirty ? { status: "dirty" } : saveState;
  const name = frameName(data.meta.frames, frames, frame);
  const labelObjects = (labelId: number) => frameObjects.filter((o) => o.labelId === labelId);

  return (
    <div className="ws" data-testid="annotation-workspace" onClickCapture={guardLinks}>
      {dataRouter ? <NavigationGuard when={dirty} /> : null}
      {leaveTo ? (
        <ConfirmDialog
          title="Leave the workspace?"
          message="Some changes of the annotations are not saved. They are lost if you leave."
          confirm="Leave"
          onConfirm={() => navigate(leaveTo)}
          onClose={() => setLeaveTo(null)}
        />
      ) : null}
      <header className="ws-top">
        <Link to={`/tasks/${job.task_id}`} className="brand" title="Back to the task">
          CVAT
        </Link>
        <JobMenu
          job={job}
          onJob={setJob}
          save={async () => {
            const state = await save();
            if (state.status !== "saved") throw new Error(state.status === "error" || state.status === "conflict" ? state.message : "The annotations are not saved yet.");
          }}
        />
        <button type="button" className="primary" onClick={() => void save()} disabled={saveState.status === "saving"} title="Save (Ctrl+S)">
          Save
        </button>
        <button type="button" aria-label="Undo" title={undoName ? `Undo: ${undoName} (Ctrl+Z)` : "Nothing to undo"} disabled={!undoName} onClick={() => run("undo")}>
          ↶
        </button>
        <button type="button" aria-label="Redo" title={redoName ? `Redo: ${redoName} (Ctrl+Shift+Z)` : "Nothing to redo"} disabled={!redoName} onClick={() => run("redo")}>
          ↷
        </button>
        <span className={`ws-save-status ws-save-${shownState.status}`} role="status" aria-live="polite" title={saveStatusText(shownState)}>
          {saveStatusText(shownState)}
        </span>
        <PlayerBar
          frame={frame}
          frames={frames}
          playable={playable}
          deleted={deleted}
          showDeleted={settings.showDeleted}
          playing={playing}
          name={name}
          inputRef={frameInputRef}
          onFrame={setFrame}
          onMove={move}
          onPlay={setPlaying}
        />
        <button
          type="button"
          aria-pressed={reviewing}
          className={reviewing ? "active" : undefined}
          title="Review: drag a region on the frame to open an issue"
          onClick={() => {
            if (engine?.mode() === "draw") engine.cancel();
            setReviewing((r) => !r);
          }}
        >
          Review
        </button>
        <Popover name="Settings" glyph="⚙" side="below-end" className="ws-settings-anchor">
          {() => <SettingsPanel settings={settings} taskFps={taskFps} onChange={updateSettings} />}
        </Popover>
        <button type="button" aria-label="Shortcuts" title="Shortcuts (F1)" onClick={() => setShortcutsOpen(true)}>
          ?
        </button>
      </header>
      {taskInUrl !== job.task_id && Number.isInteger(taskInUrl) ? (
        <p className="notice ws-banner" role="note">
          This job belongs to <Link to={`/tasks/${job.task_id}/jobs/${job.id}`}>task #{job.task_id}</Link>.
        </p>
      ) : null}
      <div className="ws-body">
        <Toolbar
          labels={labels}
          options={drawOptions}
          onOptions={(o) => setDrawOptions((current) => ({ ...current, ...o }))}
          drawing={drawing}
          onDraw={startDraw}
          onTag={addTag}
          onZoom={(d) => (d === 0 ? engine?.fit() : engine?.zoomBy(d > 0 ? 1.25 : 0.8))}
          onGroup={() => command("group")}
          onUngroup={() => command("ungroup")}
          onMerge={() => command("merge")}
          onSplit={() => command("split")}
        />
        <div className="ws-canvas-wrap">
          {frameError ? (
            <div className="ws-canvas-error">
              <ErrorBanner error={frameError} onRetry={() => setFrameTry((t) => t + 1)} />
            </div>
          ) : null}
          <div ref={canvasRef} className={`ws-canvas${reviewing ? " reviewing" : ""}`} tabIndex={0} role="application" aria-label="Canvas" aria-roledescription="annotation canvas" />
        </div>
        <aside className="ws-sidebar" aria-label="Sidebar">
          <div className="ws-tabs" role="tablist">
            {(["objects", "labels", "issues"] as const).map((t) => (
              <button key={t} type="button" role="tab" aria-selected={tab === t} className={tab === t ? "active" : undefined} onClick={() => setTab(t)}>
                {t === "objects" ? "Objects" : t === "labels" ? "Labels" : `Issues (${issues.filter((i) => !i.resolved).length})`}
              </button>
            ))}
          </div>
          <div className="ws-tab-panel" role="tabpanel">
            {tab === "objects" ? (
              <ObjectsSidebar
                store={store}
                version={version}
                objects={visible}
                tags={frameTags}
                onFrameCount={frameObjects.filter((o) => showOutside || !o.outside).length}
                labels={labels}
                labelById={labelById}
                selected={selected}
                selection={selection}
                actions={rowActions}
                onCommand={command}
                onAttribute={(id, specId, value) => store.setAttribute(id, frameRef.current, specId, value)}
                canPaste={canPaste}
                filterText={filterText}
                filterError={filterError}
                onFilter={setFilterText}
                showOutside={showOutside}
                onShowOutside={setShowOutside}
                sortBy={sortBy}
                onSort={setSortBy}
              />
            ) : null}
            {tab === "labels" ? (
              <LabelsPanel
                labels={labels}
                objects={frameObjects}
                current={drawOptions.labelId}
                hidden={(id) => {
                  const list = labelObjects(id);
                  return list.length > 0 && list.every((o) => store.view(o.clientId).hidden);
                }}
                locked={(id) => {
                  const list = labelObjects(id);
                  return list.length > 0 && list.every((o) => store.view(o.clientId).locked);
                }}
                onUse={(id) => setDrawOptions((o) => ({ ...o, labelId: id }))}
                onHide={(id, hidden) => labelObjects(id).forEach((o) => store.setView(o.clientId, { hidden }))}
                onLock={(id, locked) => labelObjects(id).forEach((o) => store.setView(o.clientId, { locked }))}
              />
            ) : null}
            {tab === "issues" ? (
              <Suspense fallback={<Loading what="Loading the issues" />}>
                <IssuesPanel
                  issues={issues}
                  firstMessages={messages}
                  selectedId={selectedIssue}
                  onSelect={(issue) => {
                    setSelectedIssue(issue.id);
                    setFrame(issue.frame);
                  }}
                  onChanged={(id, issue) => {
                    setIssues((list) => replaceIssue(list, id, issue));
                    if (!issue && selectedIssue === id) setSelectedIssue(null);
                  }}
                  onComment={(comment: IssueComment) =>
                    setMessages((m) => {
                      if (m.has(comment.issue)) return m;
                      return new Map(m).set(comment.issue, comment.message);
                    })
                  }
                />
              </Suspense>
            ) : null}
          </div>
        </aside>
      </div>
      <footer className="ws-status">
        <span>
          Frame {frame}
          {name ? ` · ${name}` : ""}
          {deleted.has(frame) ? " · deleted" : ""}
        </span>
        <span>
          Zoom <span ref={zoomRef}>—</span>
        </span>
        <span>
          Pointer <span ref={pointerRef} />
        </span>
        <span>
          {visible.length} shown · {objectCount} in the job
        </span>
        {drawing ? <span>Drawing a {drawing}: Esc cancels, N finishes</span> : null}
        {reviewing ? <span>Review: drag a region to open an issue</span> : null}
        <span className="ws-notice" role="status" aria-live="polite">
          {notice}
        </span>
      </footer>
      {shortcutsOpen ? (
        <Suspense fallback={null}>
          <ShortcutsDialog keymap={keymap} onClose={() => setShortcutsOpen(false)} />
        </Suspense>
      ) : null}
      {propagating && selected !== null ? (
        <PropagateDialog
          onClose={() => setPropagating(false)}
          onPropagate={(count) => {
            const targets = prefetchWindow(playable, frameRef.current, count);
            const created = store.propagate(selected, frameRef.current, targets);
            say(`Propagated object #${selected} to ${created.length} frame${created.length === 1 ? "" : "s"}.`);
          }}
        />
      ) : null}
      {newIssueAt ? (
        <NewIssueDialog
          jobId={job.id}
          frame={frame}
          position={newIssueAt}
          onClose={() => setNewIssueAt(null)}
          onCreated={(issue, message) => {
            setIssues((list) => [...list, issue]);
            setMessages((m) => new Map(m).set(issue.id, message));
            setSelectedIssue(issue.id);
            setTab("issues");
          }}
        />
      ) : null}
    </div>
  );
}

function PropagateDialog({ onClose, onPropagate }: { onClose(): void; onPropagate(count: number): void }) {
  const [count, setCount] = useState("10");
  const n = Math.floor(Number(count));
  const valid = Number.isFinite(n) && n >= 1;
  return (
    <Dialog title="Propagate" onClose={onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (!valid) return;
          onPropagate(n);
          onClose();
        }}
      >
        <label>
          Propagate to the next N frames
          <input type="number" aria-label="Frames" min={1} value={count} onChange={(event) => setCount(event.target.value)} autoFocus />
        </label>
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={!valid}>
            Propagate
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function NewIssueDialog({ jobId, frame, position, onClose, onCreated }: { jobId: number; frame: number; position: number[]; onClose(): void; onCreated(issue: Issue, message: string): void }) {
  const [message, setMessage] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title="Open an issue" onClose={onClose}>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          const body = newIssue(jobId, frame, position, message);
          if ("error" in body) {
            setError(new Error(body.error));
            return;
          }
          setBusy(true);
          try {
            onCreated(await api.post<Issue>("/api/issues", body), body.message);
            onClose();
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
          }
        }}
      >
        <p className="muted">
          Frame {frame}, region {position.map((v) => Math.round(v)).join(", ")}
        </p>
        <label>
          Message
          <textarea aria-label="Issue message" rows={3} value={message} onChange={(event) => setMessage(event.target.value)} autoFocus />
        </label>
        <ErrorBanner error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || !message.trim()}>
            Open issue
          </button>
        </div>
      </form>
    </Dialog>
  );
}
