// The workspace's canvas: the framework-free engine (created once on the canvas div), the frame
// provider, the frame shown (its image handed to the engine, the readiness and the play timings the
// test hook reads) and, in useCanvasObjects, the frame's objects, skeleton edges, image filters and
// appearance handed to the engine. The engine's events go through `handlers`, a ref the page
// refreshes on every render, so they always read the latest state without re-creating the engine.
import { useCallback, useEffect, useMemo, useRef, useState, type RefObject } from "react";
import { createEngine, type CanvasEngine } from "../../annotation/canvas/engine";
import { parseSkeletonTemplate } from "../../annotation/canvas/tools/skeletonTemplate";
import type { EngineEvents } from "../../annotation/canvas/types";
import type { FrameImage, FrameProviderApi, ObjectFilter } from "../../annotation/contracts";
import { FrameProvider } from "../../annotation/frames/provider";
import type { FrameObject, LabelSpec, Tag } from "../../annotation/model";
import type { AnnotationStore } from "../../annotation/store";
import type { WorkspaceData, WorkspaceSettings } from "./useWorkspace";

/** Per frame the player asked for: when it wanted it; per frame shown while playing: ms from then to the canvas. */
export interface PlayTiming {
  asked: Map<number, number>;
  log: { frame: number; ms: number }[];
}

export interface CanvasEngineState {
  canvasRef: RefObject<HTMLDivElement | null>;
  engine: CanvasEngine | null;
  engineRef: RefObject<CanvasEngine | null>;
  provider: FrameProviderApi | null;
  /** The engine's events; the page sets `handlers.current` on every render. `select` is only a user's. */
  handlers: RefObject<Partial<EngineEvents>>;
  /** engine.select from the page: its select event is not a user's click and is not passed on. */
  selectQuietly(id: number | null): void;
  frameError: unknown;
  retryFrame(): void;
  timing: PlayTiming;
  /** The first frame's image is on the canvas (and the engine exists). */
  ready(): boolean;
  /** performance.now() one animation frame after the first image and its objects went to the engine. */
  readyAt(): number | undefined;
}

export function useCanvasEngine({ data, frame }: { data: WorkspaceData; frame: number }): CanvasEngineState {
  const canvasRef = useRef<HTMLDivElement>(null);
  const [engine, setEngine] = useState<CanvasEngine | null>(null);
  const engineRef = useRef<CanvasEngine | null>(null);
  engineRef.current = engine;
  const [provider, setProvider] = useState<FrameProviderApi | null>(null);
  const [frameError, setFrameError] = useState<unknown>(null);
  const [frameTry, setFrameTry] = useState(0);
  const readyRef = useRef(false);
  const readyAtRef = useRef<number | undefined>(undefined);
  const timing = useRef<PlayTiming>({ asked: new Map(), log: [] }).current;
  const handlers = useRef<Partial<EngineEvents>>({});
  const echo = useRef(false);

  useEffect(() => {
    const div = canvasRef.current;
    if (!div) return;
    const h = handlers;
    const created = createEngine(div, {
      select: (id, additive) => {
        if (!echo.current) h.current.select?.(id, additive);
      },
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

  // the frame's image: at once when it is decoded already (playing), else when it arrives
  useEffect(() => {
    if (!provider || !engine) return;
    let current = true;
    const show = (image: FrameImage) => {
      if (!current) return;
      engine.setFrame(image.bitmap, image.width, image.height);
      const asked = timing.asked.get(image.frame);
      if (asked !== undefined) {
        timing.asked.delete(image.frame);
        timing.log.push({ frame: image.frame, ms: performance.now() - asked });
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
  }, [frame, provider, engine, frameTry, timing]);

  const selectQuietly = useCallback((id: number | null) => {
    echo.current = true;
    try {
      engineRef.current?.select(id);
    } finally {
      echo.current = false;
    }
  }, []);
  const retryFrame = useCallback(() => setFrameTry((t) => t + 1), []);
  const ready = useCallback(() => readyRef.current && engineRef.current !== null, []);
  const readyAt = useCallback(() => readyAtRef.current, []);

  return { canvasRef, engine, engineRef, provider, handlers, selectQuietly, frameError, retryFrame, timing, ready, readyAt };
}

interface CanvasObjectsInput {
  engine: CanvasEngine | null;
  store: AnnotationStore;
  version: number;
  frame: number;
  labels: readonly LabelSpec[];
  labelById: ReadonlyMap<number, LabelSpec>;
  colorOf(labelId: number): string;
  filter: ObjectFilter | null;
  showOutside: boolean;
  settings: WorkspaceSettings;
  selectedRef: RefObject<number | null>;
  selectQuietly(id: number | null): void;
}

export interface CanvasObjects {
  frameObjects: readonly FrameObject[];
  frameTags: readonly Tag[];
  /** The frame's objects the list and the canvas show: inside (unless outside ones are shown) and passing the filter. */
  visible: FrameObject[];
  /** Whether a frame has objects inside it that pass the filter (any objects without one). */
  hasMatches(frame: number): boolean;
}

export function useCanvasObjects(input: CanvasObjectsInput): CanvasObjects {
  const { engine, store, version, frame, labels, labelById, colorOf, filter, showOutside, settings, selectedRef, selectQuietly } = input;
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
    if (wanted !== null && engine.selected() !== wanted && !store.view(wanted).hidden && visible.some((o) => o.clientId === wanted)) selectQuietly(wanted);
    // version: the views (lock, hide, pin) changed
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [engine, visible, colorOf, store, version]);

  useEffect(() => {
    if (!engine) return;
    engine.setLabelNames(new Map([...labelById].map(([id, label]) => [id, label.name])));
    for (const label of labels) {
      if (label.type === "skeleton" && label.svg) engine.setSkeletonEdges(label.id, parseSkeletonTemplate(label.svg, label.sublabels).edges);
    }
  }, [engine, labels, labelById]);

  useEffect(() => {
    engine?.setFilters({ brightness: settings.brightness, contrast: settings.contrast, saturation: settings.saturation });
  }, [engine, settings.brightness, settings.contrast, settings.saturation]);

  useEffect(() => {
    engine?.setAppearance({ opacity: settings.opacity / 100, selectedOpacity: settings.selectedOpacity / 100, outlineWidth: settings.outlineWidth, showText: settings.showText });
  }, [engine, settings.opacity, settings.selectedOpacity, settings.outlineWidth, settings.showText]);

  const hasMatches = (f: number) => store.frameObjects(f).some((o) => !o.outside && (!filter || filter(o, labelById)));
  return { frameObjects, frameTags, visible, hasMatches };
}
