// The canvas benchmark page (bench/canvas.html?n=1000&mode=konva|svg&seed=1[&text=1]), driven by
// benchmarks/ui_canvas.py: a 1920x1080 generated frame with N seeded random 20-point polygons,
// drawn either by our engine (mode=konva) or as N SVG <polygon> nodes under one transformed <g>
// (mode=svg: CVAT's approach, the baseline), with the same wheel-zoom and drag-pan gestures.
// It records requestAnimationFrame deltas between window.__bench.start() and stop(). text=1 (konva
// only) gives the labels names and turns Appearance.showText on, to look at and time label text.
import { createEngine } from "../annotation/canvas/engine";
import type { ViewTransform } from "../annotation/canvas/types";
import { fitView, panBy, zoomAbout } from "../annotation/canvas/view";
import type { FrameObject } from "../annotation/model";

const WIDTH = 1920;
const HEIGHT = 1080;
const COLORS = ["#ff6037", "#33ddff", "#fa3253", "#34d1b7", "#ff007c", "#ddff33", "#24b353", "#b83df5"];

export interface Bench {
  ready: Promise<void>;
  start(): void;
  stop(): number[];
}

declare global {
  interface Window {
    __bench?: Bench;
    __cvatCanvas?: unknown;
  }
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** N star-ish 20-point polygons, 10..60 px radius, anywhere on the frame. */
export function randomPolygons(n: number, seed: number): number[][] {
  const rand = mulberry32(seed);
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const cx = rand() * WIDTH;
    const cy = rand() * HEIGHT;
    const r = 10 + rand() * 50;
    const points: number[] = [];
    for (let k = 0; k < 20; k++) {
      const a = (k / 20) * 2 * Math.PI;
      const rr = r * (0.6 + 0.4 * rand());
      points.push(Math.round((cx + rr * Math.cos(a)) * 10) / 10, Math.round((cy + rr * Math.sin(a)) * 10) / 10);
    }
    out.push(points);
  }
  return out;
}

function background(): HTMLCanvasElement {
  const canvas = document.createElement("canvas");
  canvas.width = WIDTH;
  canvas.height = HEIGHT;
  const ctx = canvas.getContext("2d");
  if (!ctx) return canvas;
  const g = ctx.createLinearGradient(0, 0, WIDTH, HEIGHT);
  g.addColorStop(0, "#2b4162");
  g.addColorStop(0.5, "#6b8f71");
  g.addColorStop(1, "#d8b863");
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, WIDTH, HEIGHT);
  ctx.strokeStyle = "rgba(255, 255, 255, 0.15)";
  for (let x = 0; x < WIDTH; x += 64) ctx.strokeRect(x, 0, 64, HEIGHT);
  for (let y = 0; y < HEIGHT; y += 64) ctx.strokeRect(0, y, WIDTH, 64);
  return canvas;
}

function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

function recorder(): Pick<Bench, "start" | "stop"> {
  let deltas: number[] = [];
  let last = 0;
  let running = false;
  const tick = (t: number): void => {
    if (!running) return;
    if (last) deltas.push(t - last);
    last = t;
    requestAnimationFrame(tick);
  };
  return {
    start() {
      deltas = [];
      last = 0;
      running = true;
      requestAnimationFrame(tick);
    },
    stop() {
      running = false;
      return deltas;
    },
  };
}

function mountKonva(stage: HTMLDivElement, polygons: number[][], text: boolean): void {
  const engine = createEngine(stage, {});
  const objects: FrameObject[] = polygons.map((points, i) => ({
    clientId: i + 1, kind: "shape", type: "polygon", labelId: i % COLORS.length, points, rotation: 0, occluded: false,
    outside: false, zOrder: 0, keyframe: true, attributes: {}, elements: [], group: 0,
  }));
  engine.setFrame(background(), WIDTH, HEIGHT);
  if (text) {
    engine.setLabelNames(new Map(COLORS.map((_, i) => [i, `label ${String.fromCharCode(97 + i)}`])));
    engine.setAppearance({ showText: true });
  }
  engine.setObjects(objects, (labelId) => COLORS[labelId] ?? "#ff6037", new Map());
  window.__cvatCanvas = engine;
}

/** CVAT's way: SVG nodes under one <g> whose transform the gestures change. */
function mountSvg(stage: HTMLDivElement, polygons: number[][]): void {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", "100%");
  svg.setAttribute("height", "100%");
  svg.style.display = "block";
  const g = document.createElementNS(ns, "g");
  const img = document.createElementNS(ns, "image");
  img.setAttribute("href", background().toDataURL("image/png"));
  img.setAttribute("width", String(WIDTH));
  img.setAttribute("height", String(HEIGHT));
  g.appendChild(img);
  polygons.forEach((points, i) => {
    const color = COLORS[i % COLORS.length] ?? "#ff6037";
    const poly = document.createElementNS(ns, "polygon");
    const pairs: string[] = [];
    for (let k = 0; k + 1 < points.length; k += 2) pairs.push(`${points[k]},${points[k + 1]}`);
    poly.setAttribute("points", pairs.join(" "));
    poly.setAttribute("fill", color);
    poly.setAttribute("fill-opacity", "0.15");
    poly.setAttribute("stroke", color);
    poly.setAttribute("stroke-width", "2");
    poly.setAttribute("vector-effect", "non-scaling-stroke");
    g.appendChild(poly);
  });
  svg.appendChild(g);
  stage.appendChild(svg);

  const size = (): { width: number; height: number } => ({ width: stage.clientWidth, height: stage.clientHeight });
  let view: ViewTransform = fitView(size(), { width: WIDTH, height: HEIGHT });
  const apply = (): void => g.setAttribute("transform", `matrix(${view.scale} 0 0 ${view.scale} ${view.x} ${view.y})`);
  apply();
  const local = (e: MouseEvent): { x: number; y: number } => {
    const r = stage.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  stage.addEventListener("wheel", (e) => {
    e.preventDefault();
    const delta = Math.max(-300, Math.min(300, e.deltaY));
    view = zoomAbout(view, Math.exp(-delta * 0.002), local(e));
    apply();
  }, { passive: false });
  let press: { x: number; y: number; view: ViewTransform } | null = null;
  stage.addEventListener("pointerdown", (e) => {
    press = { ...local(e), view };
  });
  window.addEventListener("pointermove", (e) => {
    if (!press) return;
    const p = local(e);
    view = panBy(press.view, p.x - press.x, p.y - press.y);
    apply();
  });
  window.addEventListener("pointerup", () => {
    press = null;
  });
}

function main(): void {
  const params = new URLSearchParams(location.search);
  const n = Math.max(0, Number(params.get("n") ?? 1000) || 0);
  const seed = Number(params.get("seed") ?? 1) || 1;
  const mode = params.get("mode") === "svg" ? "svg" : "konva";
  const stage = document.getElementById("stage") as HTMLDivElement;
  const polygons = randomPolygons(n, seed);
  if (mode === "svg") mountSvg(stage, polygons);
  else mountKonva(stage, polygons, params.get("text") === "1");
  const ready = nextFrame().then(nextFrame).then(nextFrame);
  window.__bench = { ready, ...recorder() };
}

main();
