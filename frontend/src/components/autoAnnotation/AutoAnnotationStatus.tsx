// The task page's automatic annotation: the request of this task that runs (found on load among
// the caller's requests, or just started from the dialog), read every second until it ends, with
// its progress and a Cancel button; when it ends, whether it finished, was canceled or failed (and why).
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../../api/client";
import { cancelFunctionCall, getFunctionCall, listFunctionCalls } from "../../api/lambda";
import type { FunctionCall } from "../../api/types";
import { callActive, callCanceled, callPercent, callSummary, runningCallOf } from "../../lib/autoAnnotation";
import { delay } from "../../lib/requests";
import { ProgressBar } from "../dataset/RequestProgress";
import { ErrorBanner } from "../ui";
import "./autoAnnotation.css";

const POLL_MS = 1000;

export interface TaskAutoAnnotation {
  call: FunctionCall | null;
  error: unknown;
  canceling: boolean;
  running: boolean;
  /** A request the dialog started: followed from now on. */
  follow(call: FunctionCall): void;
  /** Look again for a running request of the task (after the server said one runs). */
  discover(): void;
  cancel(): void;
  dismiss(): void;
}

export function useTaskAutoAnnotation(taskId: number, onEnded?: () => void): TaskAutoAnnotation {
  const [call, setCall] = useState<FunctionCall | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [canceling, setCanceling] = useState(false);
  const [looks, setLooks] = useState(0);
  const ended = useRef(onEnded);
  useEffect(() => {
    ended.current = onEnded;
  }, [onEnded]);

  useEffect(() => {
    const controller = new AbortController();
    listFunctionCalls().then(
      (calls) => {
        if (controller.signal.aborted) return;
        const running = runningCallOf(calls, taskId);
        if (running) setCall((shown) => (shown?.id === running.id ? shown : running));
      },
      () => undefined, // no lambda API (or no right to it): there is nothing to show
    );
    return () => controller.abort();
  }, [taskId, looks]);

  const activeId = call && callActive(call) ? call.id : null;
  useEffect(() => {
    if (!activeId) return;
    const controller = new AbortController();
    const { signal } = controller;
    (async () => {
      for (;;) {
        await delay(POLL_MS, signal);
        try {
          const next = await getFunctionCall(activeId);
          if (signal.aborted) return;
          setCall(next);
          setError(null);
          if (!callActive(next)) {
            ended.current?.();
            return;
          }
        } catch (e) {
          if (signal.aborted) return;
          setError(e);
          if (e instanceof ApiError && e.status === 404) return; // gone: nothing more to read
        }
      }
    })().catch(() => undefined); // aborted: the page moved on
    return () => controller.abort();
  }, [activeId]);

  const follow = useCallback((started: FunctionCall) => {
    setError(null);
    setCall(started);
  }, []);
  const discover = useCallback(() => setLooks((n) => n + 1), []);
  const dismiss = useCallback(() => {
    setError(null);
    setCall(null);
  }, []);
  const cancel = useCallback(() => {
    if (!activeId) return;
    setCanceling(true);
    setError(null);
    cancelFunctionCall(activeId)
      .then(() => getFunctionCall(activeId))
      .then((next) => {
        setCall(next);
        if (!callActive(next)) ended.current?.();
      })
      .catch(setError)
      .finally(() => setCanceling(false));
  }, [activeId]);

  return { call, error, canceling, running: activeId !== null, follow, discover, cancel, dismiss };
}

export function AutoAnnotationStatus({ state }: { state: TaskAutoAnnotation }) {
  const { call, error } = state;
  if (!call) return error ? <ErrorBanner error={error} /> : null;
  const active = callActive(call);
  const percent = callPercent(call);
  const outcome = call.status === "finished" ? "finished" : callCanceled(call) ? "canceled" : call.status === "failed" ? "failed" : "running";
  return (
    <div className={`auto-annotation-status ${outcome}`} aria-label="Automatic annotation">
      <div className="auto-annotation-line">
        <span role="status">
          {callSummary(call)} <span className="muted">({call.function.id})</span>
        </span>
        {active ? (
          <button type="button" onClick={state.cancel} disabled={state.canceling}>
            {state.canceling ? "Canceling…" : "Cancel automatic annotation"}
          </button>
        ) : (
          <button type="button" className="link-button" onClick={state.dismiss}>
            Dismiss
          </button>
        )}
      </div>
      {active ? <ProgressBar request={{ status: call.status ?? "queued", progress: percent / 100 }} label="Automatic annotation progress" /> : null}
      <ErrorBanner error={error} />
    </div>
  );
}
