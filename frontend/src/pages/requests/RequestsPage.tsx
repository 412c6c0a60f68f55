// The caller's background requests (every one for an admin), newest first: exports, imports,
// backups, task creation, automatic annotation. Filters and the page are in the URL (?status=failed&action=export&page=2);
// the list refreshes itself every 2 s while a request is queued or in progress.
import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api } from "../../api/client";
import type { BackgroundRequest, Paginated } from "../../api/types";
import { ProgressBar } from "../../components/dataset/RequestProgress";
import { ConfirmDialog, Empty, ErrorBanner, formatDate, Loading, Pager, sameOriginHref, useLoad } from "../../components/ui";
import { cancelFunctionCall } from "../../api/lambda";
import { actionLabel, isActive, isAutoAnnotation, operationLabel, progressPercent, statusLabel, targetLabel, targetPath } from "../../lib/requests";
import "../../components/dataset/dataset.css";

const PAGE_SIZE = 20;
const REFRESH_MS = 2000;
const STATUSES = ["queued", "started", "finished", "failed"];
const ACTIONS = ["create", "import", "export", "autoannotate"];
const TARGETS = ["project", "task", "job"];

export default function RequestsPage() {
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get("page") ?? "1") || 1);
  const status = params.get("status") ?? "";
  const action = params.get("action") ?? "";
  const target = params.get("target") ?? "";
  const requests = useLoad(
    () =>
      api.get<Paginated<BackgroundRequest>>("/api/requests", {
        page,
        page_size: PAGE_SIZE,
        sort: "-created_date",
        status: status || undefined,
        action: action || undefined,
        target: target || undefined,
      }),
    [page, status, action, target],
  );
  const [canceling, setCanceling] = useState<BackgroundRequest | null>(null);
  const active = requests.data?.results.some((r) => isActive(r.status)) ?? false;
  const { reload, loading } = requests;

  useEffect(() => {
    if (!active || loading) return;
    const timer = setTimeout(reload, REFRESH_MS);
    return () => clearTimeout(timer);
  }, [active, loading, reload, requests.data]);

  function setFilter(name: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    next.delete("page");
    setParams(next);
  }

  function setPage(value: number) {
    const next = new URLSearchParams(params);
    if (value > 1) next.set("page", String(value));
    else next.delete("page");
    setParams(next);
  }

  const filtered = Boolean(status || action || target);
  return (
    <section aria-labelledby="requests-title">
      <div className="page-head">
        <h1 id="requests-title">Requests</h1>
        <button type="button" onClick={reload} disabled={loading}>
          Refresh
        </button>
      </div>
      <div className="requests-filters">
        <Choice label="Status" value={status} options={STATUSES} words={statusLabel} onChange={(v) => setFilter("status", v)} />
        <Choice label="Action" value={action} options={ACTIONS} words={(a) => actionLabel(a)} onChange={(v) => setFilter("action", v)} />
        <Choice label="Target" value={target} options={TARGETS} words={(t) => t.charAt(0).toUpperCase() + t.slice(1)} onChange={(v) => setFilter("target", v)} />
        {active ? <span className="muted">Refreshing every 2 s while a request runs.</span> : null}
      </div>
      <ErrorBanner error={requests.error} onRetry={reload} />
      {loading && !requests.data ? <Loading what="Loading requests" /> : null}
      {requests.data && requests.data.count === 0 ? <Empty>{filtered ? "No requests match these filters." : "No requests yet: exports, imports, backups, task creation and automatic annotation are listed here."}</Empty> : null}
      {requests.data && requests.data.count > 0 ? (
        <>
          <table className="grid requests">
            <thead>
              <tr>
                <th scope="col">Operation</th>
                <th scope="col">Status</th>
                <th scope="col">Message</th>
                <th scope="col">Created</th>
                <th scope="col">Finished</th>
                <th scope="col">Owner</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {requests.data.results.map((r) => (
                <RequestRow key={r.id} request={r} onCancel={() => setCanceling(r)} />
              ))}
            </tbody>
          </table>
          <Pager page={page} pageSize={PAGE_SIZE} count={requests.data.count} onPage={setPage} />
        </>
      ) : null}
      {canceling ? (
        <ConfirmDialog
          title="Cancel the request"
          message={`Cancel "${operationLabel(canceling.operation)}"? It ends as failed; what it made so far is discarded.`}
          confirm="Cancel request"
          onConfirm={async () => {
            if (isAutoAnnotation(canceling.operation)) await cancelFunctionCall(canceling.id);
            else await api.post(`/api/requests/${encodeURIComponent(canceling.id)}/cancel`);
            reload();
          }}
          onClose={() => setCanceling(null)}
        />
      ) : null}
    </section>
  );
}

function Choice({ label, value, options, words, onChange }: { label: string; value: string; options: string[]; words(value: string): string; onChange(value: string): void }) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">All</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {words(o)}
          </option>
        ))}
      </select>
    </label>
  );
}

function RequestRow({ request, onCancel }: { request: BackgroundRequest; onCancel(): void }) {
  const op = request.operation;
  const label = operationLabel(op);
  const path = targetPath(request);
  return (
    <tr>
      <td>
        <strong>{actionLabel(op.type)}</strong>
        <div>
          {path ? <Link to={path}>{request.status === "finished" && request.result_id && op.type === "import:backup" ? `${op.target} #${request.result_id}` : targetLabel(op)}</Link> : targetLabel(op)}
          {op.format ? <span className="muted"> · {op.format}</span> : null}
          {op.function_id ? <span className="muted"> · {op.function_id}</span> : null}
        </div>
        <div className="muted">{request.id}</div>
      </td>
      <td>
        <span className={`request-status ${request.status}`}>
          {statusLabel(request.status)}
          {isActive(request.status) ? ` · ${progressPercent(request)}%` : ""}
        </span>
        <ProgressBar request={request} label={`Progress of ${label}`} />
      </td>
      <td className="message">{request.message}</td>
      <td>{formatDate(request.created_date)}</td>
      <td>{formatDate(request.finished_date)}</td>
      <td className="owner">{request.owner?.username ?? ""}</td>
      <td>
        <div className="row-actions">
          {request.status === "finished" && sameOriginHref(request.result_url) ? (
            <a className="button primary" href={sameOriginHref(request.result_url)!} download aria-label={`Download the result of ${label}`}>
              Download
            </a>
          ) : null}
          {isActive(request.status) ? (
            <button type="button" onClick={onCancel} aria-label={`Cancel ${label}`}>
              Cancel
            </button>
          ) : null}
        </div>
      </td>
    </tr>
  );
}
