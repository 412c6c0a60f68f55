// The workspace's hooks: re-rendering on the store's version (useSyncExternalStore: only the
// panels that read it re-render), the settings kept in localStorage, and loading everything a job
// needs (job, frames' meta, labels, annotations, issues and their comments) in parallel.
import { useCallback, useEffect, useState, useSyncExternalStore } from "react";
import { api, type Params } from "../../api/client";
import type { Job, Label, Paginated } from "../../api/types";
import type { AnnotationStoreApi } from "../../annotation/contracts";
import type { ApiAnnotations } from "../../annotation/model";
import type { DataMeta } from "../../lib/frames";
import { DEFAULT_STEP, PLAY_SPEEDS } from "./player";
import type { Issue, IssueComment } from "./review";

const noop = () => () => undefined;

/** The store's version; the calling component re-renders on every change of the store. */
export function useStoreVersion(store: AnnotationStoreApi | null): number {
  const subscribe = useCallback((listener: () => void) => (store ? store.subscribe(() => listener()) : noop()), [store]);
  return useSyncExternalStore(
    subscribe,
    () => store?.version() ?? 0,
    () => 0,
  );
}

// --- settings ------------------------------------------------------------------------------------

export interface WorkspaceSettings {
  fps: number | null; // 5, 10, 25, 50; null: the task's own frame rate (data/meta frame_rate, else 25)
  step: number; // frames of "next step"
  autosaveMinutes: number; // 0: off
  showDeleted: boolean;
  brightness: number; // percent
  contrast: number;
  saturation: number;
  opacity: number; // 0..100
  selectedOpacity: number; // 0..100
  outlineWidth: number;
  showText: boolean;
}

export const DEFAULT_SETTINGS: WorkspaceSettings = {
  fps: null,
  step: DEFAULT_STEP,
  autosaveMinutes: 1,
  showDeleted: false,
  brightness: 100,
  contrast: 100,
  saturation: 100,
  opacity: 15,
  selectedOpacity: 40,
  outlineWidth: 2,
  showText: true,
};

export const AUTOSAVE_CHOICES: readonly number[] = [0, 1, 5];
const SETTINGS_KEY = "cvat.workspace.settings";

/** Stored settings over the defaults; unknown or out-of-range values fall back to the default. */
export function parseSettings(text: string | null): WorkspaceSettings {
  const out: WorkspaceSettings = { ...DEFAULT_SETTINGS };
  if (!text) return out;
  let stored: unknown;
  try {
    stored = JSON.parse(text);
  } catch {
    return out;
  }
  if (!stored || typeof stored !== "object") return out;
  const record = stored as Record<string, unknown>;
  const num = (key: keyof WorkspaceSettings, min: number, max: number): void => {
    const value = record[key];
    if (typeof value === "number" && Number.isFinite(value) && value >= min && value <= max) (out as unknown as Record<string, unknown>)[key] = value;
  };
  const bool = (key: keyof WorkspaceSettings): void => {
    if (typeof record[key] === "boolean") (out as unknown as Record<string, unknown>)[key] = record[key];
  };
  if (record.fps === null || PLAY_SPEEDS.includes(record.fps as number)) out.fps = record.fps as number | null;
  if (AUTOSAVE_CHOICES.includes(record.autosaveMinutes as number)) out.autosaveMinutes = record.autosaveMinutes as number;
  num("step", 2, 1000);
  num("brightness", 0, 300);
  num("contrast", 0, 300);
  num("saturation", 0, 300);
  num("opacity", 0, 100);
  num("selectedOpacity", 0, 100);
  num("outlineWidth", 1, 10);
  bool("showDeleted");
  bool("showText");
  return out;
}

export function useWorkspaceSettings(): [WorkspaceSettings, (changes: Partial<WorkspaceSettings>) => void] {
  const [settings, setSettings] = useState<WorkspaceSettings>(() => parseSettings(typeof localStorage === "undefined" ? null : localStorage.getItem(SETTINGS_KEY)));
  const update = useCallback((changes: Partial<WorkspaceSettings>) => {
    setSettings((current) => {
      const next = { ...current, ...changes };
      try {
        localStorage.setItem(SETTINGS_KEY, JSON.stringify(next));
      } catch {
        // private mode or a full storage: the settings last for this page
      }
      return next;
    });
  }, []);
  return [settings, update];
}

// --- loading -------------------------------------------------------------------------------------

export type JobRead = Job & { task_name?: string | null; project_name?: string | null; dimension?: string };

export interface WorkspaceData {
  job: JobRead;
  meta: DataMeta;
  labels: Label[];
  annotations: ApiAnnotations;
  issues: Issue[];
  comments: IssueComment[];
}

/** Every page of a list, following `next` (CVAT's absolute URLs) with their own parameters. */
export async function fetchAll<T>(path: string, params: Params): Promise<T[]> {
  const out: T[] = [];
  let page = await api.get<Paginated<T>>(path, params);
  out.push(...page.results);
  for (let guard = 0; page.next && guard < 1000; guard++) {
    const url = new URL(page.next, typeof window === "undefined" ? "http://localhost" : window.location.origin);
    const nextParams: Params = {};
    url.searchParams.forEach((value, key) => {
      nextParams[key] = value;
    });
    page = await api.get<Paginated<T>>(url.pathname, nextParams);
    out.push(...page.results);
  }
  return out;
}

export async function loadWorkspace(jobId: number): Promise<WorkspaceData> {
  const [job, meta, labels, annotations, issues, comments] = await Promise.all([
    api.get<JobRead>(`/api/jobs/${jobId}`),
    api.get<DataMeta>(`/api/jobs/${jobId}/data/meta`),
    fetchAll<Label>("/api/labels", { job_id: jobId, page_size: 500 }),
    api.get<ApiAnnotations>(`/api/jobs/${jobId}/annotations`),
    fetchAll<Issue>("/api/issues", { job_id: jobId, page_size: 100 }),
    fetchAll<IssueComment>("/api/comments", { job_id: jobId, page_size: 500 }),
  ]);
  return { job, meta, labels, annotations, issues, comments };
}

export interface LoadState<T> {
  data: T | null;
  error: unknown;
  reload(): void;
}

/** The job's data; a newer job id or a reload wins over an older answer. */
export function useWorkspaceData(jobId: number): LoadState<WorkspaceData> {
  const [state, setState] = useState<{ data: WorkspaceData | null; error: unknown }>({ data: null, error: null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let current = true;
    setState({ data: null, error: null });
    if (!Number.isInteger(jobId) || jobId <= 0) {
      setState({ data: null, error: new Error("This is not a job's address.") });
      return;
    }
    loadWorkspace(jobId).then(
      (data) => current && setState({ data, error: null }),
      (error: unknown) => current && setState({ data: null, error }),
    );
    return () => {
      current = false;
    };
  }, [jobId, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}
