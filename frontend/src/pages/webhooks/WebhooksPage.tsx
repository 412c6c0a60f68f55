// Webhooks of the current scope (the organization from the switcher, or the personal workspace's
// project webhooks): create/edit, ping, deliveries with their payloads, redelivery, delete. The
// page and the open deliveries panel live in the URL (?page=2&deliveries=7&dpage=1).
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { api, ApiError } from "../../api/client";
import type { Paginated, Project, Webhook, WebhookDelivery, WebhookEvents } from "../../api/types";
import { useSession } from "../../auth/session";
import { ConfirmDialog, Dialog, Empty, ErrorBanner, formatDate, Loading, Pager, useLoad } from "../../components/ui";
import { fieldErrors, otherErrors, type FieldErrors } from "../../lib/forms";
import { groupEvents, selectionState, showPayload, toggleEvent } from "../../lib/webhooks";
import "../profile/account.css";

const PAGE_SIZE = 10;
const DELIVERY_PAGE_SIZE = 10;

function num(value: string | null, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export default function WebhooksPage() {
  const { org } = useSession();
  const [params, setParams] = useSearchParams();
  const page = num(params.get("page"), 1);
  const openDeliveries = params.get("deliveries") ? num(params.get("deliveries"), 0) : 0;
  const webhooks = useLoad(() => api.get<Paginated<Webhook>>("/api/webhooks", { page, page_size: PAGE_SIZE, sort: "-id" }), [page]);
  const [editing, setEditing] = useState<Webhook | "new" | null>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [pinging, setPinging] = useState<number | null>(null);
  const [ping, setPing] = useState<{ webhook: Webhook; delivery: WebhookDelivery } | null>(null);
  const [error, setError] = useState<unknown>(null);

  const set = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) next.delete(key);
      else next.set(key, value);
    }
    setParams(next);
  };

  async function doPing(webhook: Webhook) {
    setPinging(webhook.id);
    setError(null);
    setPing(null);
    try {
      const delivery = await api.post<WebhookDelivery>(`/api/webhooks/${webhook.id}/ping`);
      setPing({ webhook, delivery });
      webhooks.reload();
    } catch (e) {
      setError(e);
    } finally {
      setPinging(null);
    }
  }

  const shown = webhooks.data?.results.find((w) => w.id === openDeliveries);
  return (
    <section aria-labelledby="webhooks-title">
      <div className="page-head">
        <h1 id="webhooks-title">Webhooks</h1>
        <button type="button" className="primary" onClick={() => setEditing("new")}>
          Create a webhook
        </button>
      </div>
      <p className="muted">{org ? `Webhooks of the organization ${org} and its projects.` : "Webhooks of your projects in the personal workspace."}</p>
      <ErrorBanner error={webhooks.error ?? error} onRetry={webhooks.reload} />
      {ping ? (
        <div className="notice" role="status" aria-label="Ping result">
          <strong>
            Ping to {ping.webhook.target_url}: {ping.delivery.status_code === null ? "no answer" : `status ${ping.delivery.status_code}`}
          </strong>
          <pre className="payload">{showPayload(ping.delivery.response)}</pre>
          <button type="button" onClick={() => setPing(null)}>
            Dismiss
          </button>
        </div>
      ) : null}
      {webhooks.loading && !webhooks.data ? <Loading what="Loading webhooks" /> : null}
      {webhooks.data && webhooks.data.count === 0 ? <Empty>No webhooks yet.</Empty> : null}
      {webhooks.data && webhooks.data.count > 0 ? (
        <>
          <table className="grid" aria-label="Webhooks">
            <thead>
              <tr>
                <th>ID</th>
                <th>Target URL</th>
                <th>Type</th>
                <th>Events</th>
                <th>Active</th>
                <th>Last status</th>
                <th>Last delivery</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {webhooks.data.results.map((w) => (
                <tr key={w.id}>
                  <td>#{w.id}</td>
                  <td>
                    {w.target_url}
                    {w.description ? <div className="muted">{w.description}</div> : null}
                  </td>
                  <td>{w.type === "project" ? `project #${w.project_id}` : w.type}</td>
                  <td title={w.events.join(", ")}>{w.events.length}</td>
                  <td>{w.is_active ? "yes" : "no"}</td>
                  <td>{w.last_status === undefined || w.last_status === null ? "—" : <span className={`badge ${w.last_status >= 200 && w.last_status < 300 ? "ok" : "fail"}`}>{w.last_status}</span>}</td>
                  <td>{formatDate(w.last_delivery_date) || "—"}</td>
                  <td className="actions-cell">
                    <button type="button" aria-label={`Edit webhook ${w.id}`} onClick={() => setEditing(w)}>
                      Edit
                    </button>
                    <button type="button" aria-label={`Ping webhook ${w.id}`} disabled={pinging === w.id} onClick={() => void doPing(w)}>
                      {pinging === w.id ? "Pinging…" : "Ping"}
                    </button>
                    <button
                      type="button"
                      aria-label={`Deliveries of webhook ${w.id}`}
                      aria-expanded={openDeliveries === w.id}
                      onClick={() => set({ deliveries: openDeliveries === w.id ? null : String(w.id), dpage: null })}
                    >
                      Deliveries
                    </button>
                    <button type="button" className="danger" aria-label={`Delete webhook ${w.id}`} onClick={() => setDeleting(w)}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} pageSize={PAGE_SIZE} count={webhooks.data.count} onPage={(p) => set({ page: p > 1 ? String(p) : null })} />
        </>
      ) : null}
      {openDeliveries ? (
        <Deliveries
          key={`${openDeliveries}-${ping?.delivery.id ?? 0}`}
          webhookId={openDeliveries}
          title={shown ? shown.target_url : `#${openDeliveries}`}
          page={num(params.get("dpage"), 1)}
          onPage={(p) => set({ dpage: p > 1 ? String(p) : null })}
          onClose={() => set({ deliveries: null, dpage: null })}
        />
      ) : null}
      {editing ? (
        <WebhookDialog
          webhook={editing === "new" ? null : editing}
          inOrg={Boolean(org)}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            webhooks.reload();
          }}
        />
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete a webhook"
          message={`Delete the webhook to ${deleting.target_url} and its deliveries?`}
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await api.delete(`/api/webhooks/${deleting.id}`);
            if (openDeliveries === deleting.id) set({ deliveries: null, dpage: null });
            webhooks.reload();
          }}
        />
      ) : null}
    </section>
  );
}

// --- create / edit -----------------------------------------------------------------------------------

function WebhookDialog({ webhook, inOrg, onClose, onSaved }: { webhook: Webhook | null; inOrg: boolean; onClose(): void; onSaved(): void }) {
  const [targetUrl, setTargetUrl] = useState(webhook?.target_url ?? "");
  const [description, setDescription] = useState(webhook?.description ?? "");
  const [type, setType] = useState<"organization" | "project">(webhook?.type === "project" ? "project" : webhook ? "organization" : inOrg ? "organization" : "project");
  const [projectId, setProjectId] = useState<string>(webhook?.project_id ? String(webhook.project_id) : "");
  const [secret, setSecret] = useState("");
  const [enableSsl, setEnableSsl] = useState(webhook?.enable_ssl ?? true);
  const [isActive, setIsActive] = useState(webhook?.is_active ?? true);
  const [events, setEvents] = useState<string[]>(webhook?.events ?? []);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const available = useLoad(() => api.get<WebhookEvents>("/api/webhooks/events", { type }), [type]);
  const projects = useLoad(
    () => (type === "project" && !webhook ? api.get<Paginated<Project>>("/api/projects", { page_size: 100, sort: "name" }) : Promise.resolve(null)),
    [type],
  );
  const keys = available.data?.events.map((e) => e.key) ?? [];
  const state = selectionState(keys, events);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setErrors({});
    setError(null);
    const chosen = events.filter((e) => keys.includes(e));
    if (chosen.length === 0) {
      setErrors({ events: "Choose at least one event." });
      return;
    }
    if (!webhook && type === "project" && !projectId) {
      setErrors({ project_id: "Choose a project." });
      return;
    }
    setBusy(true);
    const body: Record<string, unknown> = {
      target_url: targetUrl.trim(),
      description,
      content_type: "application/json",
      enable_ssl: enableSsl,
      is_active: isActive,
      events: chosen,
    };
    if (secret) body.secret = secret; // write-only: empty keeps the stored one on edit
    try {
      if (webhook) await api.patch(`/api/webhooks/${webhook.id}`, body);
      else await api.post("/api/webhooks", { ...body, type, ...(type === "project" ? { project_id: Number(projectId) } : {}) });
      onSaved();
    } catch (e) {
      const fields = e instanceof ApiError && e.status === 400 ? fieldErrors(e.body) : {};
      setErrors(fields);
      const rest = otherErrors(fields, ["target_url", "events", "project_id", "secret", "description"]);
      setError(rest ? new Error(rest) : Object.keys(fields).length ? null : e);
      setBusy(false);
    }
  }

  return (
    <Dialog title={webhook ? `Edit webhook #${webhook.id}` : "Create a webhook"} onClose={onClose}>
      <form onSubmit={submit} className="form-grid" noValidate>
        <label className="wide">
          Target URL
          <input type="url" value={targetUrl} onChange={(e) => setTargetUrl(e.target.value)} required placeholder="https://example.com/hook" aria-invalid={Boolean(errors.target_url)} aria-describedby="wh-url-error" autoFocus />
          <span id="wh-url-error" className="field-error" role={errors.target_url ? "alert" : undefined}>
            {errors.target_url}
          </span>
        </label>
        <label className="wide">
          Description
          <input value={description} onChange={(e) => setDescription(e.target.value)} maxLength={128} />
        </label>
        <label>
          Type
          <select
            aria-label="Type"
            value={type}
            disabled={Boolean(webhook)}
            onChange={(e) => {
              setType(e.target.value as "organization" | "project");
              setEvents([]);
            }}
          >
            {inOrg || webhook?.type === "organization" ? <option value="organization">organization</option> : null}
            <option value="project">project</option>
          </select>
        </label>
        {type === "project" ? (
          webhook ? (
            <label>
              Project
              <input value={`#${webhook.project_id}`} disabled />
            </label>
          ) : (
            <label>
              Project
              <select aria-label="Project" value={projectId} onChange={(e) => setProjectId(e.target.value)} aria-invalid={Boolean(errors.project_id)}>
                <option value="">{projects.loading ? "Loading projects…" : "Choose a project"}</option>
                {projects.data?.results.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name} (#{p.id})
                  </option>
                ))}
              </select>
              <span className="field-error">{errors.project_id}</span>
            </label>
          )
        ) : (
          <label>
            Content type
            <input value="application/json" disabled />
          </label>
        )}
        <label>
          Secret
          <input type="password" autoComplete="new-password" value={secret} onChange={(e) => setSecret(e.target.value)} maxLength={64} placeholder={webhook ? "Leave empty to keep the current one" : "Optional"} />
          <span className="field-error">{errors.secret}</span>
        </label>
        <div className="form-row">
          <label className="check">
            <input type="checkbox" checked={enableSsl} onChange={(e) => setEnableSsl(e.target.checked)} />
            Enable SSL verification
          </label>
          <label className="check">
            <input type="checkbox" checked={isActive} onChange={(e) => setIsActive(e.target.checked)} />
            Active
          </label>
        </div>
        <div className="wide">
          <div className="form-row">
            <strong>Events</strong>
            <label className="check">
              <input
                type="checkbox"
                checked={state === "all"}
                ref={(el) => {
                  if (el) el.indeterminate = state === "some";
                }}
                onChange={() => setEvents(state === "all" ? [] : keys)}
              />
              Select all events
            </label>
          </div>
          <ErrorBanner error={available.error} onRetry={available.reload} />
          {available.loading && !available.data ? <Loading what="Loading events" /> : null}
          <div className="events-box">
            {groupEvents(available.data?.events ?? []).map(([group, groupKeys]) => (
              <fieldset key={group}>
                <legend>{group}</legend>
                {groupKeys.map((key) => (
                  <label key={key} className="check">
                    <input type="checkbox" checked={events.includes(key)} onChange={() => setEvents(toggleEvent(keys, events, key))} />
                    {key}
                  </label>
                ))}
              </fieldset>
            ))}
          </div>
          <span className="field-error">{errors.events}</span>
        </div>
        <div className="wide">
          <ErrorBanner error={error} />
          <div className="actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={busy}>
              {webhook ? "Save" : "Create"}
            </button>
          </div>
        </div>
      </form>
    </Dialog>
  );
}

// --- deliveries --------------------------------------------------------------------------------------

function Deliveries({ webhookId, title, page, onPage, onClose }: { webhookId: number; title: string; page: number; onPage(page: number): void; onClose(): void }) {
  const deliveries = useLoad(() => api.get<Paginated<WebhookDelivery>>(`/api/webhooks/${webhookId}/deliveries`, { page, page_size: DELIVERY_PAGE_SIZE }), [webhookId, page]);
  const [expanded, setExpanded] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");

  const redeliver = async (delivery: WebhookDelivery) => {
    setError(null);
    setNotice("");
    try {
      await api.post(`/api/webhooks/${webhookId}/deliveries/${delivery.id}/redelivery`);
      setNotice(`Delivery #${delivery.id} was sent again.`);
      deliveries.reload();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <div className="account-section card" role="region" aria-labelledby="deliveries-title">
      <div className="page-head">
        <h2 id="deliveries-title">Deliveries of webhook #{webhookId}</h2>
        <div className="form-row">
          <button type="button" onClick={deliveries.reload}>
            Refresh
          </button>
          <button type="button" onClick={onClose}>
            Close deliveries
          </button>
        </div>
      </div>
      <p className="muted">{title}</p>
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      <ErrorBanner error={deliveries.error ?? error} onRetry={deliveries.reload} />
      {deliveries.loading && !deliveries.data ? <Loading what="Loading deliveries" /> : null}
      {deliveries.data && deliveries.data.count === 0 ? <Empty>No deliveries yet. Ping the webhook to send one.</Empty> : null}
      {deliveries.data && deliveries.data.count > 0 ? (
        <>
          <table className="grid" aria-label="Deliveries">
            <thead>
              <tr>
                <th>ID</th>
                <th>Event</th>
                <th>Status code</th>
                <th>Attempt</th>
                <th>Redelivery</th>
                <th>Date</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.data.results.map((d) => (
                <DeliveryRow key={d.id} delivery={d} expanded={expanded === d.id} onToggle={() => setExpanded(expanded === d.id ? null : d.id)} onRedeliver={() => void redeliver(d)} />
              ))}
            </tbody>
          </table>
          <Pager page={page} pageSize={DELIVERY_PAGE_SIZE} count={deliveries.data.count} onPage={onPage} />
        </>
      ) : null}
    </div>
  );
}

function DeliveryRow({ delivery: d, expanded, onToggle, onRedeliver }: { delivery: WebhookDelivery; expanded: boolean; onToggle(): void; onRedeliver(): void }) {
  const ok = d.status_code !== null && d.status_code >= 200 && d.status_code < 300;
  return (
    <>
      <tr>
        <td>#{d.id}</td>
        <td>{d.event}</td>
        <td>
          <span className={`badge ${ok ? "ok" : "fail"}`}>{d.status_code ?? "none"}</span>
        </td>
        <td>{d.attempt ?? ""}</td>
        <td>{d.redelivery ? "yes" : "no"}</td>
        <td>{formatDate(d.created_date)}</td>
        <td className="actions-cell">
          <button type="button" aria-expanded={expanded} aria-label={`Details of delivery ${d.id}`} onClick={onToggle}>
            {expanded ? "Hide" : "Details"}
          </button>
          <button type="button" aria-label={`Redeliver delivery ${d.id}`} onClick={onRedeliver}>
            Redeliver
          </button>
        </td>
      </tr>
      {expanded ? (
        <tr>
          <td colSpan={7}>
            <div className="form-grid">
              <div>
                <h3>Request</h3>
                <pre className="payload" aria-label={`Request of delivery ${d.id}`}>
                  {showPayload(d.request)}
                </pre>
              </div>
              <div>
                <h3>Response</h3>
                <pre className="payload" aria-label={`Response of delivery ${d.id}`}>
                  {showPayload(d.response)}
                </pre>
              </div>
            </div>
          </td>
        </tr>
      ) : null}
    </>
  );
}
