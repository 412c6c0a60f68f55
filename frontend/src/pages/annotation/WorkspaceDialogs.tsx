// The workspace's dialogs: the leave guards (react-router's blocker under a data router, else a
// confirmation for a link the workspace caught), "Propagate" (the selected shape to the next N
// frames) and "Open an issue" (the message for a region dragged in review mode, POSTed as an issue).
import { useRef, useState } from "react";
import { useBlocker } from "react-router";
import { api } from "../../api/client";
import { ConfirmDialog, Dialog, ErrorBanner } from "../../components/ui";
import { newIssue, type Issue } from "./review";
import type { LeaveGuardState } from "./useSaving";

const LEAVE_TITLE = "Leave the workspace?";
const LEAVE_MESSAGE = "Some changes of the annotations are not saved. They are lost if you leave.";

/** react-router's blocker exists only under a data router; with a plain BrowserRouter only `beforeunload` guards. */
function NavigationGuard({ when }: { when: boolean }) {
  const blocker = useBlocker(when);
  const leaving = useRef(false);
  if (blocker.state !== "blocked") return null;
  return (
    <ConfirmDialog
      title={LEAVE_TITLE}
      message={LEAVE_MESSAGE}
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

export function LeaveGuard({ guard }: { guard: LeaveGuardState }) {
  return (
    <>
      {guard.dataRouter ? <NavigationGuard when={guard.dirty} /> : null}
      {guard.leaveTo ? <ConfirmDialog title={LEAVE_TITLE} message={LEAVE_MESSAGE} confirm="Leave" onConfirm={guard.leave} onClose={guard.stay} /> : null}
    </>
  );
}

export function PropagateDialog({ onClose, onPropagate }: { onClose(): void; onPropagate(count: number): void }) {
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

export function NewIssueDialog({ jobId, frame, position, onClose, onCreated }: { jobId: number; frame: number; position: number[]; onClose(): void; onCreated(issue: Issue, message: string): void }) {
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
