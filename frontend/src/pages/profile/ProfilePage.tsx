// The signed-in user's profile: name, password change, personal access tokens (the value shown
// once, when created) and organizations (with a link to create one).
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, ApiError } from "../../api/client";
import type { AccessToken, Paginated, User } from "../../api/types";
import { useSession } from "../../auth/session";
import { ConfirmDialog, Dialog, Empty, ErrorBanner, formatDate, Loading, Pager, useLoad, SaveFooter } from "../../components/ui";
import { endOfDay, fieldErrors, otherErrors, type FieldErrors } from "../../lib/forms";
import "./account.css";

const PAGE_SIZE = 10;

export default function ProfilePage() {
  const { user } = useSession();
  if (!user) return <Loading />;
  return (
    <section aria-labelledby="profile-title">
      <h1 id="profile-title">Profile</h1>
      <Details user={user} />
      <PasswordChange />
      <AccessTokens />
      <Organizations />
    </section>
  );
}

function Details({ user }: { user: User }) {
  const { refresh } = useSession();
  const [first, setFirst] = useState(user.first_name);
  const [last, setLast] = useState(user.last_name);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      await api.request("PATCH", `/api/users/${user.id}`, { body: { first_name: first.trim(), last_name: last.trim() }, withOrg: false });
      setSaved(true);
      await refresh();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="card account-section">
      <h2>Details</h2>
      <form onSubmit={submit} className="form-grid">
        <label>
          Username
          <input value={user.username} disabled />
        </label>
        <label>
          Email
          <input value={user.email} disabled />
        </label>
        <label>
          First name
          <input value={first} onChange={(e) => setFirst(e.target.value)} maxLength={150} />
        </label>
        <label>
          Last name
          <input value={last} onChange={(e) => setLast(e.target.value)} maxLength={150} />
        </label>
        <p className="wide muted">
          Joined {formatDate(user.date_joined)} · last login {formatDate(user.last_login) || "never"}
          {user.is_superuser ? " · superuser" : user.is_staff ? " · staff" : ""}
        </p>
        <SaveFooter error={error} saved={saved} busy={busy} />
      </form>
    </div>
  );
}

function PasswordChange() {
  const [old, setOld] = useState("");
  const [new1, setNew1] = useState("");
  const [new2, setNew2] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setError(null);
    setDone("");
    try {
      const answer = await api.request<{ detail?: string }>("POST", "/api/auth/password/change", {
        body: { old_password: old, new_password1: new1, new_password2: new2 },
        withOrg: false,
      });
      setDone(answer?.detail ?? "New password has been saved.");
      setOld("");
      setNew1("");
      setNew2("");
    } catch (e) {
      const fields = e instanceof ApiError && e.status === 400 ? fieldErrors(e.body) : {};
      setErrors(fields);
      const rest = otherErrors(fields, ["old_password", "new_password1", "new_password2"]);
      setError(rest ? new Error(rest) : Object.keys(fields).length ? null : e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="card account-section">
      <h2>Change password</h2>
      <form onSubmit={submit} className="form-grid">
        <label className="wide">
          Current password
          <input type="password" autoComplete="current-password" required value={old} onChange={(e) => setOld(e.target.value)} aria-invalid={Boolean(errors.old_password)} aria-describedby="pw-old-error" />
          <span id="pw-old-error" className="field-error">
            {errors.old_password}
          </span>
        </label>
        <label>
          New password
          <input type="password" autoComplete="new-password" required value={new1} onChange={(e) => setNew1(e.target.value)} aria-invalid={Boolean(errors.new_password1)} aria-describedby="pw-new1-error" />
          <span id="pw-new1-error" className="field-error">
            {errors.new_password1}
          </span>
        </label>
        <label>
          Confirm new password
          <input type="password" autoComplete="new-password" required value={new2} onChange={(e) => setNew2(e.target.value)} aria-invalid={Boolean(errors.new_password2)} aria-describedby="pw-new2-error" />
          <span id="pw-new2-error" className="field-error">
            {errors.new_password2}
          </span>
        </label>
        <div className="wide">
          <ErrorBanner error={error} />
          {done ? (
            <p className="notice" role="status">
              {done}
            </p>
          ) : null}
          <div className="actions">
            <button type="submit" className="primary" disabled={busy}>
              Change password
            </button>
          </div>
        </div>
      </form>
    </div>
  );
}

function AccessTokens() {
  const [page, setPage] = useState(1);
  const tokens = useLoad(
    () => api.request<Paginated<AccessToken>>("GET", "/api/auth/access_tokens", { params: { page, page_size: PAGE_SIZE, sort: "-id" }, withOrg: false }),
    [page],
  );
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<AccessToken | null>(null);
  const [revoking, setRevoking] = useState<AccessToken | null>(null);
  return (
    <div className="card account-section">
      <div className="page-head">
        <h2>Personal access tokens</h2>
        <button type="button" onClick={() => setCreating(true)}>
          Create a token
        </button>
      </div>
      <p className="muted">
        Use a token as <code>Authorization: Bearer &lt;token&gt;</code> (cvat-sdk's <code>access_token</code>).
      </p>
      <ErrorBanner error={tokens.error} onRetry={tokens.reload} />
      {tokens.loading && !tokens.data ? <Loading what="Loading tokens" /> : null}
      {tokens.data && tokens.data.count === 0 ? <Empty>No access tokens.</Empty> : null}
      {tokens.data && tokens.data.count > 0 ? (
        <>
          <table className="grid" aria-label="Access tokens">
            <thead>
              <tr>
                <th>Name</th>
                <th>Access</th>
                <th>Created</th>
                <th>Expires</th>
                <th>Last used</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.results.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td>{t.read_only ? "read only" : "read and write"}</td>
                  <td>{formatDate(t.created_date)}</td>
                  <td>{formatDate(t.expiry_date) || "never"}</td>
                  <td>{formatDate(t.last_used_date) || "never"}</td>
                  <td className="actions-cell">
                    <button type="button" className="danger" aria-label={`Revoke token ${t.name}`} onClick={() => setRevoking(t)}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} pageSize={PAGE_SIZE} count={tokens.data.count} onPage={setPage} />
        </>
      ) : null}
      {creating ? (
        <CreateTokenDialog
          onClose={() => setCreating(false)}
          onCreated={(token) => {
            setCreating(false);
            setCreated(token);
            tokens.reload();
          }}
        />
      ) : null}
      {created ? <TokenValueDialog token={created} onClose={() => setCreated(null)} /> : null}
      {revoking ? (
        <ConfirmDialog
          title="Revoke an access token"
          message={`Revoke the token “${revoking.name}”? Programs using it will be refused.`}
          confirm="Revoke"
          onClose={() => setRevoking(null)}
          onConfirm={async () => {
            await api.request("DELETE", `/api/auth/access_tokens/${revoking.id}`, { withOrg: false });
            tokens.reload();
          }}
        />
      ) : null}
    </div>
  );
}

function CreateTokenDialog({ onClose, onCreated }: { onClose(): void; onCreated(token: AccessToken): void }) {
  const [name, setName] = useState("");
  const [expiry, setExpiry] = useState("");
  const [readOnly, setReadOnly] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setError(null);
    try {
      const token = await api.request<AccessToken>("POST", "/api/auth/access_tokens", {
        body: { name: name.trim(), expiry_date: expiry ? endOfDay(expiry) : null, read_only: readOnly },
        withOrg: false,
      });
      onCreated(token);
    } catch (e) {
      const fields = e instanceof ApiError && e.status === 400 ? fieldErrors(e.body) : {};
      setErrors(fields);
      const rest = otherErrors(fields, ["name", "expiry_date"]);
      setError(rest ? new Error(rest) : Object.keys(fields).length ? null : e);
      setBusy(false);
    }
  }

  return (
    <Dialog title="Create an access token" onClose={onClose}>
      <form onSubmit={submit} className="form-grid">
        <label className="wide">
          Token name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={50} autoFocus aria-invalid={Boolean(errors.name)} aria-describedby="token-name-error" />
          <span id="token-name-error" className="field-error">
            {errors.name}
          </span>
        </label>
        <label>
          Expires on (optional)
          <input type="date" value={expiry} onChange={(e) => setExpiry(e.target.value)} aria-describedby="token-expiry-error" />
          <span id="token-expiry-error" className="field-error">
            {errors.expiry_date}
          </span>
        </label>
        <label className="check">
          <input type="checkbox" checked={readOnly} onChange={(e) => setReadOnly(e.target.checked)} />
          Read only
        </label>
        <div className="wide">
          <ErrorBanner error={error} />
          <div className="actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={busy}>
              Create token
            </button>
          </div>
        </div>
      </form>
    </Dialog>
  );
}

function TokenValueDialog({ token, onClose }: { token: AccessToken; onClose(): void }) {
  const [copied, setCopied] = useState<string>("");
  return (
    <Dialog title={`Token “${token.name}” created`} onClose={onClose}>
      <p>Copy the token now: it is shown only once and cannot be read again.</p>
      <div className="secret-value">
        <code aria-label="Token value">{token.value}</code>
        <button
          type="button"
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(token.value ?? "");
              setCopied("Copied to the clipboard.");
            } catch {
              setCopied("The browser refused the clipboard: select the token and copy it.");
            }
          }}
        >
          Copy
        </button>
      </div>
      {copied ? (
        <p className="muted" role="status">
          {copied}
        </p>
      ) : null}
      <div className="actions">
        <button type="button" className="primary" onClick={onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}

function Organizations() {
  const { organizations, org } = useSession();
  return (
    <div className="card account-section">
      <div className="page-head">
        <h2>Your organizations</h2>
        <Link className="button" to="/organization?create=1">
          Create an organization
        </Link>
      </div>
      {organizations.length === 0 ? (
        <Empty>You are not a member of any organization.</Empty>
      ) : (
        <ul>
          {organizations.map((o) => (
            <li key={o.id}>
              <strong>{o.name || o.slug}</strong> ({o.slug}){o.slug === org ? " · current" : ""}
            </li>
          ))}
        </ul>
      )}
      <p>
        <Link to="/organization">Organization page</Link>
      </p>
    </div>
  );
}
