// The job menu of the workspace's top bar: the job's details page and task, its stage and state
// (the job page's own controls), and CVAT's "Finish the job": save, then stage acceptance and
// state completed, after a confirmation.
import { useState } from "react";
import { Link } from "react-router";
import { ConfirmDialog, ErrorBanner } from "../../components/ui";
import { StageSelect, StateSelect, useJobPatch, type JobPatch } from "../jobs/jobControls";
import { Popover } from "./Toolbar";
import type { JobRead } from "./useWorkspace";

export const FINISHED: Required<Pick<JobPatch, "stage" | "state">> = { stage: "acceptance", state: "completed" };

interface Props {
  job: JobRead;
  onJob(job: JobRead): void;
  /** saves the annotations; rejects (with the reason) when they could not be saved */
  save(): Promise<void>;
}

export function JobMenu({ job, onJob, save }: Props) {
  const { patch, error, busy } = useJobPatch(job, (saved) => onJob({ ...job, ...saved }));
  const [finishing, setFinishing] = useState(false);
  return (
    <>
      <Popover name="Menu" glyph="☰ Menu" side="below">
        {(close) => (
          <div className="ws-menu">
            <p>
              <strong>Job #{job.id}</strong>
              <br />
              <span className="muted">{job.task_name ? `${job.task_name} (task #${job.task_id})` : `Task #${job.task_id}`}</span>
            </p>
            <ErrorBanner error={error} />
            <label>
              Stage
              <StageSelect job={job} busy={busy} patch={patch} />
            </label>
            <label>
              State
              <StateSelect job={job} busy={busy} patch={patch} />
            </label>
            <Link to={`/tasks/${job.task_id}/jobs/${job.id}/details`} onClick={close}>
              Job info
            </Link>
            <Link to={`/tasks/${job.task_id}`} onClick={close}>
              Open the task
            </Link>
            <button
              type="button"
              disabled={busy}
              onClick={() => {
                close();
                setFinishing(true);
              }}
            >
              Finish the job
            </button>
          </div>
        )}
      </Popover>
      {finishing ? (
        <ConfirmDialog
          title="Finish the job?"
          message="The annotations are saved, then the job moves to the acceptance stage and its state becomes completed."
          confirm="Finish the job"
          onConfirm={async () => {
            await save();
            await patch(FINISHED);
          }}
          onClose={() => setFinishing(false)}
        />
      ) : null}
    </>
  );
}
