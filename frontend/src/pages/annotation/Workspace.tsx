// The annotation workspace (/tasks/:tid/jobs/:jid): a full-window page with a top bar (job menu,
// save and undo, the player, review, settings, shortcuts), the drawing toolbar on the left, the
// canvas in the centre and the objects / labels / issues sidebar on the right.
//
// React owns the panels only. The canvas is the framework-free engine (createEngine): the page
// hands it the frame's image and the frame's objects in effects, and hears back through its
// events. The store's version re-renders the page once per edit; zoom and the pointer position
// are written straight into the status bar, never through React state.
//
// This file wires the parts together: the canvas (useCanvasEngine), frames and player
// (usePlayback), saving (useSaving), selection (useSelection), drawing (useDrawing), object
// commands (useObjectActions), review (useReview) and the keyboard (useWorkspaceKeys).
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useParams } from "react-router";
import { useSession } from "../../auth/session";
import type { CanvasEngine } from "../../annotation/canvas/engine";
import type { ObjectFilter } from "../../annotation/contracts";
import { KeyMap } from "../../annotation/keys";
import { labelIndex, labelSpecs } from "../../annotation/labels";
import { compileFilter, parseFilterInput } from "../../annotation/objectFilter";
import { AnnotationStore } from "../../annotation/store";
import { ErrorBanner, Loading, messageOf } from "../../components/ui";
import { LabelsPanel } from "./LabelsPanel";
import { ObjectsSidebar, type SortBy } from "./ObjectsSidebar";
import { DEFAULT_FPS, frameName } from "./player";
import { TopBar } from "./TopBar";
import { Toolbar } from "./Toolbar";
import { useCanvasEngine, useCanvasObjects } from "./useCanvasEngine";
import { useDrawing } from "./useDrawing";
import { useObjectActions } from "./useObjectActions";
import { useFrames, usePlayback } from "./usePlayback";
import { useReview } from "./useReview";
import { useSaving } from "./useSaving";
import { useSelection } from "./useSelection";
import { useWorkspaceKeys } from "./useWorkspaceKeys";
import { useStoreVersion, useWorkspaceData, useWorkspaceSettings, type JobRead, type WorkspaceData } from "./useWorkspace";
import { LeaveGuard, NewIssueDialog, PropagateDialog } from "./WorkspaceDialogs";
import "./workspace.css";

export { saveStatusText } from "./useSaving";

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

/** The filter box's text as a filter: none when empty; the parse error's message when it does not parse. */
export function buildFilter(text: string): { filter: ObjectFilter | null; error: string | null } {
  if (!text.trim()) return { filter: null, error: null };
  try {
    return { filter: compileFilter(parseFilterInput(text)), error: null };
  } catch (error) {
    return { filter: null, error: messageOf(error) };
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

type Tab = "objects" | "labels" | "issues";

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
  const keymap = useMemo(() => new KeyMap(String(user?.id ?? "anonymous")), [user?.id]);
  const [tab, setTab] = useState<Tab>("objects");
  const [filterText, setFilterText] = useState("");
  const built = useMemo(() => buildFilter(filterText), [filterText]);
  // while the text does not parse (mid-typing), the last filter that did stays in force
  const lastGoodFilter = useRef<ObjectFilter | null>(null);
  if (!built.error) lastGoodFilter.current = built.filter;
  const filter = built.error ? lastGoodFilter.current : built.filter;
  const filterError = built.error;
  const [showOutside, setShowOutside] = useState(false);
  const [sortBy, setSortBy] = useState<SortBy>("id");
  const [shortcutsOpen, setShortcutsOpen] = useState(false);
  const zoomRef = useRef<HTMLSpanElement>(null);
  const pointerRef = useRef<HTMLSpanElement>(null);
  const frameInputRef = useRef<HTMLInputElement>(null);

  const [notice, say] = useNotice();
  const frames = useFrames(data, settings.showDeleted);
  const { frame, setFrame, frameRef } = frames;
  const canvas = useCanvasEngine({ data, frame });
  const { engine, engineRef } = canvas;
  const saving = useSaving({ store, version, jobId: data.job.id, autosaveMinutes: settings.autosaveMinutes });
  const player = usePlayback({ frames, provider: canvas.provider, fps: settings.fps ?? taskFps, showDeleted: settings.showDeleted, step: settings.step, timing: canvas.timing });
  const sel = useSelection(canvas.selectQuietly);
  const objects = useCanvasObjects({ engine, store, version, frame, labels, labelById, colorOf, filter, showOutside, settings, selectedRef: sel.selectedRef, selectQuietly: canvas.selectQuietly });
  const review = useReview({ data, engine, frame, setFrame, showIssues: () => setTab("issues") });
  const draw = useDrawing({ engine, canvasRef: canvas.canvasRef, store, labels, labelById, frameRef, selectObject: sel.selectObject, setReviewing: review.setReviewing, setPlaying: player.setPlaying, say });
  const actions = useObjectActions({ store, version, labels, frameRef, frameObjects: objects.frameObjects, visible: objects.visible, playable: frames.playable, selection: sel, say, setFrame, chooseLabel: draw.chooseLabel, editMask: draw.editMask });
  const objectCount = useMemo(
    () => store.objects().length,
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [store, version],
  );

  // the engine's events, refreshed every render: they read the latest state
  canvas.handlers.current = {
    ...sel.events,
    ...draw.events,
    edited: (result) => store.setGeometry(result.clientId, frameRef.current, { points: result.points, rotation: result.rotation, elements: result.elements }),
    ...review.events,
    view: (transform) => {
      if (zoomRef.current) zoomRef.current.textContent = `${Math.round(transform.scale * 100)}%`;
    },
    pointer: (point) => {
      if (pointerRef.current) pointerRef.current.textContent = point ? `${Math.round(point.x)}, ${Math.round(point.y)}` : "";
    },
  };

  const run = useWorkspaceKeys(keymap, canvas.canvasRef, engineRef, {
    ...actions, // goToKeyframe, cycleObject, command, remove, toggle, setLabelByIndex
    store,
    engine,
    selected: sel.selected,
    selectObject: sel.selectObject,
    reviewing: review.reviewing,
    setReviewing: review.setReviewing,
    say,
    toggleShortcuts: () => setShortcutsOpen((o) => !o),
    save: () => void saving.save(),
    move: player.move,
    search: (direction) => {
      if (!player.seek(direction, objects.hasMatches)) say("No other frame with such objects.");
    },
    togglePlay: () => player.setPlaying((p) => !p),
    frameInputRef,
    drawAgain: draw.drawAgain,
    redraw: draw.redraw,
  });

  const { playingRef, setPlaying } = player;
  const { ready, readyAt, timing } = canvas;
  useEffect(() => {
    const hook: WorkspaceTestHook = {
      store,
      engine,
      frame: () => frameRef.current,
      get ready() {
        return ready();
      },
      get readyAt() {
        return readyAt();
      },
      setFrame: (n: number) => setFrame(n),
      drawnObjects: () => engineRef.current?.renderedCount() ?? 0,
      play: () => setPlaying(true),
      playing: () => playingRef.current,
      playLog: timing.log,
    };
    window.__cvatWorkspace = hook;
    return () => {
      if (window.__cvatWorkspace === hook) delete window.__cvatWorkspace;
    };
  }, [store, engine, frameRef, engineRef, playingRef, setFrame, setPlaying, ready, readyAt, timing]);

  const { visible, frameObjects } = objects;
  const name = frameName(data.meta.frames, frames.frames, frame);

  return (
    <div className="ws" data-testid="annotation-workspace" onClickCapture={saving.guardLinks}>
      <LeaveGuard guard={saving.leaveGuard} />
      <TopBar
        job={job}
        onJob={setJob}
        save={saving.save}
        saveState={saving.saveState}
        shownState={saving.shownState}
        undoName={store.undoName()}
        redoName={store.redoName()}
        undo={() => run("undo")}
        redo={() => run("redo")}
        player={{ frame, frames: frames.frames, playable: frames.playable, deleted: frames.deleted, showDeleted: settings.showDeleted, playing: player.playing, name, inputRef: frameInputRef, onFrame: setFrame, onMove: player.move, onPlay: setPlaying }}
        reviewing={review.reviewing}
        onReview={review.toggleReviewing}
        settings={settings}
        taskFps={taskFps}
        onSettings={updateSettings}
        onShortcuts={() => setShortcutsOpen(true)}
      />
      {taskInUrl !== job.task_id && Number.isInteger(taskInUrl) ? (
        <p className="notice ws-banner" role="note">
          This job belongs to <Link to={`/tasks/${job.task_id}/jobs/${job.id}`}>task #{job.task_id}</Link>.
        </p>
      ) : null}
      <div className="ws-body">
        <Toolbar
          labels={labels}
          options={draw.drawOptions}
          onOptions={(o) => draw.setDrawOptions((current) => ({ ...current, ...o }))}
          drawing={draw.drawing}
          onDraw={draw.startDraw}
          onTag={draw.addTag}
          onZoom={(d) => (d === 0 ? engine?.fit() : engine?.zoomBy(d > 0 ? 1.25 : 0.8))}
          onGroup={() => actions.command("group")}
          onUngroup={() => actions.command("ungroup")}
          onMerge={() => actions.command("merge")}
          onSplit={() => actions.command("split")}
        />
        <div className="ws-canvas-wrap">
          {canvas.frameError ? (
            <div className="ws-canvas-error">
              <ErrorBanner error={canvas.frameError} onRetry={canvas.retryFrame} />
            </div>
          ) : null}
          <div ref={canvas.canvasRef} className={`ws-canvas${review.reviewing ? " reviewing" : ""}`} tabIndex={0} role="application" aria-label="Canvas" aria-roledescription="annotation canvas" />
        </div>
        <aside className="ws-sidebar" aria-label="Sidebar">
          <div className="ws-tabs" role="tablist">
            {(["objects", "labels", "issues"] as const).map((t) => (
              <button key={t} type="button" role="tab" aria-selected={tab === t} className={tab === t ? "active" : undefined} onClick={() => setTab(t)}>
                {t === "objects" ? "Objects" : t === "labels" ? "Labels" : `Issues (${review.openIssues})`}
              </button>
            ))}
          </div>
          <div className="ws-tab-panel" role="tabpanel">
            {tab === "objects" ? (
              <ObjectsSidebar
                store={store}
                version={version}
                objects={visible}
                tags={objects.frameTags}
                onFrameCount={frameObjects.filter((o) => showOutside || !o.outside).length}
                labels={labels}
                labelById={labelById}
                selected={sel.selected}
                selection={sel.selection}
                actions={actions.rowActions}
                onCommand={actions.command}
                onAttribute={(id, specId, value) => store.setAttribute(id, frameRef.current, specId, value)}
                canPaste={actions.canPaste}
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
                current={draw.drawOptions.labelId}
                hidden={actions.labelView.hidden}
                locked={actions.labelView.locked}
                onUse={draw.chooseLabel}
                onHide={actions.labelView.hide}
                onLock={actions.labelView.lock}
              />
            ) : null}
            {tab === "issues" ? (
              <Suspense fallback={<Loading what="Loading the issues" />}>
                <IssuesPanel issues={review.issues} firstMessages={review.messages} selectedId={review.selectedIssue} {...review.panel} />
              </Suspense>
            ) : null}
          </div>
        </aside>
      </div>
      <footer className="ws-status">
        <span>
          Frame {frame}
          {name ? ` · ${name}` : ""}
          {frames.deleted.has(frame) ? " · deleted" : ""}
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
        {draw.drawing ? <span>Drawing a {draw.drawing}: Esc cancels, N finishes</span> : null}
        {review.reviewing ? <span>Review: drag a region to open an issue</span> : null}
        <span className="ws-notice" role="status" aria-live="polite">
          {notice}
        </span>
      </footer>
      {shortcutsOpen ? (
        <Suspense fallback={null}>
          <ShortcutsDialog keymap={keymap} onClose={() => setShortcutsOpen(false)} />
        </Suspense>
      ) : null}
      {actions.propagating && sel.selected !== null ? <PropagateDialog onClose={actions.closePropagate} onPropagate={actions.propagate} /> : null}
      {review.newIssueAt ? <NewIssueDialog jobId={job.id} frame={frame} position={review.newIssueAt} onClose={review.closeNewIssue} onCreated={review.issueCreated} /> : null}
    </div>
  );
}

/** A status-bar message that clears itself after six seconds. */
function useNotice(): [string, (text: string) => void] {
  const [notice, setNotice] = useState("");
  const say = useCallback((text: string) => setNotice(text), []);
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => setNotice(""), 6000);
    return () => clearTimeout(timer);
  }, [notice]);
  return [notice, say];
}
