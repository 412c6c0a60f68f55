// The editable parts of a job (stage, state, assignee), shared by the task's jobs table and the
// job page: each change is one `PATCH /api/jobs/{id}`; CVAT's error message is shown on failure.
import { useState } from "react";
import { api } from "../../api/client";
import type { BasicUser, Job } from "../../api/types";
import { UserPicker } from "../../components/UserPicker";
import { JOB_STAGES, JOB_STATES } from "../../lib/frames";

export interface JobPatch {
  stage?: string;
  state?: string;
  assignee?: number | null;
}

export function useJobPatch(job: Job, onSaved: (job: Job) => void) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function patch(changes: JobPatch): Promise<void> {
    setBusy(true);
    setError(null);
    try {
      onSaved(await api.patch<Job>(`/api/jobs/${job.id}`, changes));
    } catch (e) {
      setError(e);
      throw e;
    } finally {
      setBusy(false);
    }
  }
  return { patch, error, busy };
}

export function StageSelect({ job, busy, patch }: { job: Job; busy: boolean; patch(changes: JobPatch): Promise<void> }) {
  return (
    <select aria-label={`Stage of job ${job.id}`} value={job.stage} disabled={busy} onChange={(e) => void patch({ stage: e.target.value }).catch(() => undefined)}>
      {withCurrent(JOB_STAGES, job.stage).map((s) => (
        <option key={s} value={s}>
          {s}
        </option>
      ))}
    </select>
  );
}

export function StateSelect({ job, busy, patch }: { job: Job; busy: boolean; patch(changes: JobPatch): Promise<void> }) {
  return (
    <select aria-label={`State of job ${job.id}`} value={job.state} disabled={busy} onChange={(e) => void patch({ state: e.target.value }).catch(() => undefined)}>
      {withCurrent(JOB_STATES, job.state).map((s) => (
        <option key={s} value={s}>
          {s}
        </option>
      ))}
    </select>
  );
}

export function JobAssignee({ job, busy, patch }: { job: Job; busy: boolean; patch(changes: JobPatch): Promise<void> }) {
  // a failed change is shown by the caller's ErrorBanner (useJobPatch's error), once
  return <UserPicker label={`Assignee of job ${job.id}`} value={job.assignee} disabled={busy} onChange={(user: BasicUser | null) => patch({ assignee: user ? user.id : null }).catch(() => undefined)} />;
}

function withCurrent(values: readonly string[], current: string): string[] {
  return values.includes(current) ? [...values] : [...values, current];
}
