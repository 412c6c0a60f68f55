// One job's details page (/tasks/:tid/jobs/:jid/details): stage, state and assignee editable, its
// frames' metadata (`GET /api/jobs/{id}/data/meta`), its preview and dataset actions. The job's
// own URL (/tasks/:tid/jobs/:jid) opens the annotation workspace, as in CVAT.
import { useState } from "react";
import { Link, useParams } from "react-router";
import { api } from "../../api/client";
import type { Job } from "../../api/types";
import { DatasetActions } from "../../components/dataset/DatasetActions";
import { Empty, ErrorBanner, formatDate, Loading, useLoad } from "../../components/ui";
import { compactFrames, frameRange, frameRows, frameSizes, type DataMeta } from "../../lib/frames";
import { Item } from "../tasks/Item";
import { Preview } from "../tasks/Preview";
import { JobAssignee, StageSelect, StateSelect, useJobPatch } from "./jobControls";
import "../tasks/tasks.css";

type JobRead = Job & { task_name?: string | null; project_name?: string | null; dimension?: string };

const FIRST_FRAMES = 10;

export default function JobPage() {
  const params = useParams();
  const tid = Number(params.tid);
  const jid = Number(params.jid);
  const valid = Number.isInteger(jid) && jid > 0;
  const job = useLoad(() => (valid ? api.get<JobRead>(`/api/jobs/${jid}`) : Promise.reject(new Error(`"${params.jid ?? ""}" is not a job id.`))), [jid]);
  // an earlier job's answer is not this one's (a link or Back from job to job keeps this page)
  const data = job.data?.id === jid ? job.data : undefined;
  if (job.loading && !data) return <Loading what="Loading the job" />;
  if (!data)
    return (
      <section>
        <h1>Job #{params.jid}</h1>
        <ErrorBanner error={job.error} onRetry={job.reload} />
        <Link to={Number.isInteger(tid) && tid > 0 ? `/tasks/${tid}` : "/jobs"}>Back</Link>
      </section>
    );
  return <JobView key={`${data.id}-${data.updated_date}`} initial={data} taskInUrl={tid} />;
}

function JobView({ initial, taskInUrl }: { initial: JobRead; taskInUrl: number }) {
  const [job, setJob] = useState<JobRead>(initial);
  const { patch, error, busy } = useJobPatch(job, (saved) => setJob({ ...job, ...saved }));
  return (
    <section aria-labelledby="job-title" className="task-layout">
      <div className="page-head">
        <div>
          <p className="muted">
            <Link to="/tasks">Tasks</Link> / <Link to={`/tasks/${job.task_id}`}>{job.task_name || `Task #${job.task_id}`}</Link>
          </p>
          <h1 id="job-title">Job #{job.id}</h1>
        </div>
        <div className="head-actions">
          <Link className="button primary" to={`/tasks/${job.task_id}/jobs/${job.id}`}>
            Annotate
          </Link>
          <DatasetActions resource="job" id={job.id} />
        </div>
      </div>
      {taskInUrl !== job.task_id ? (
        <p className="notice" role="note">
          This job belongs to <Link to={`/tasks/${job.task_id}/jobs/${job.id}/details`}>task #{job.task_id}</Link>, not task #{String(taskInUrl)}.
        </p>
      ) : null}
      <ErrorBanner error={error} />
      <div className="task-top">
        <div className="card">
          <h2>Details</h2>
          <dl className="details-grid">
            <Item term="Task">
              <Link to={`/tasks/${job.task_id}`}>{job.task_name ? `${job.task_name} (#${job.task_id})` : `#${job.task_id}`}</Link>
            </Item>
            <Item term="Project">{job.project_id !== null ? <Link to={`/projects/${job.project_id}`}>{job.project_name || `#${job.project_id}`}</Link> : <span className="muted">None</span>}</Item>
            <Item term="Frames">
              {frameRange(job.start_frame, job.stop_frame)} ({job.frame_count} frame{job.frame_count === 1 ? "" : "s"})
            </Item>
            <Item term="Stage">
              <StageSelect job={job} busy={busy} patch={patch} />
            </Item>
            <Item term="State">
              <StateSelect job={job} busy={busy} patch={patch} />
            </Item>
            <Item term="Assignee">
              <JobAssignee job={job} busy={busy} patch={patch} />
            </Item>
            <Item term="Type">{job.type}</Item>
            <Item term="Mode">{job.mode}</Item>
            <Item term="Dimension">{job.dimension ?? ""}</Item>
            <Item term="Created">{formatDate(job.created_date)}</Item>
            <Item term="Updated">{formatDate(job.updated_date)}</Item>
          </dl>
        </div>
        <div className="card">
          <h2>Preview</h2>
          <Preview path={`/api/jobs/${job.id}/preview`} alt={`Preview of job ${job.id}`} large />
        </div>
      </div>
      <FramesMeta jobId={job.id} firstFrame={job.start_frame} />
    </section>
  );
}

function FramesMeta({ jobId, firstFrame }: { jobId: number; firstFrame: number }) {
  const meta = useLoad(() => api.get<DataMeta>(`/api/jobs/${jobId}/data/meta`), [jobId]);
  const data = meta.data;
  const rows = data ? frameRows(data, FIRST_FRAMES, firstFrame) : [];
  return (
    <div className="card" aria-labelledby="frames-title">
      <h2 id="frames-title">Frames</h2>
      <ErrorBanner error={meta.error} onRetry={meta.reload} />
      {meta.loading && !data ? <Loading what="Loading the frames' metadata" /> : null}
      {data ? (
        <>
          <dl className="details-grid">
            <Item term="Frame count">{data.size}</Item>
            <Item term="Frame range">{frameRange(data.start_frame, data.stop_frame)}</Item>
            <Item term="Frame sizes">{frameSizes(data) || <span className="muted">unknown</span>}</Item>
            <Item term="Deleted frames">{data.deleted_frames.length ? compactFrames(data.deleted_frames) : <span className="muted">None</span>}</Item>
            <Item term="Chunk size">{data.chunk_size ?? ""}</Item>
            <Item term="Image quality">{data.image_quality}</Item>
            {data.frame_filter ? <Item term="Frame filter">{data.frame_filter}</Item> : null}
          </dl>
          <h3 id="first-frames">First frames</h3>
          {rows.length === 0 ? (
            <Empty>No frame metadata.</Empty>
          ) : (
            <table className="grid" aria-labelledby="first-frames">
              <thead>
                <tr>
                  <th scope="col">Frame</th>
                  <th scope="col">Name</th>
                  <th scope="col">Size</th>
                  <th scope="col">Deleted</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={row.frame}>
                    <td>{row.frame}</td>
                    <td>{row.name}</td>
                    <td>{row.size}</td>
                    <td>{row.deleted ? "deleted" : ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : null}
    </div>
  );
}

