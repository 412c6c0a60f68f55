// One background request as it goes: its status, a progress bar and, when it failed, its message.
import type { BackgroundRequest } from "../../api/types";
import { operationLabel, progressPercent, statusLabel } from "../../lib/requests";
import "./dataset.css";

export function ProgressBar({ request, label }: { request: Pick<BackgroundRequest, "status" | "progress">; label: string }) {
  const percent = progressPercent(request);
  return (
    <div className={`progress ${request.status === "failed" ? "failed" : ""}`} role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
      <div style={{ width: `${percent}%` }} />
    </div>
  );
}

export function RequestProgress({ request }: { request: BackgroundRequest }) {
  const label = operationLabel(request.operation);
  return (
    <div className="request-progress" aria-live="polite">
      <div className="request-progress-line">
        <span>{label}</span>
        <span className={`request-status ${request.status}`}>
          {statusLabel(request.status)}
          {request.status === "started" ? ` · ${progressPercent(request)}%` : ""}
        </span>
      </div>
      <ProgressBar request={request} label={`Progress of ${label}`} />
    </div>
  );
}
