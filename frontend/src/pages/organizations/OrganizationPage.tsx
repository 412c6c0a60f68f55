// The current organization (the switcher's choice): its details, members, invitations, and its
// deletion; in the personal workspace, the caller's organizations and invitations. Creating an
// organization is here too (/organization?create=1), then the UI switches to it.
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { api, ApiError } from "../../api/client";
import type { Invitation, Membership, Organization, Paginated } from "../../api/types";
import { useSession } from "../../auth/session";
import { ConfirmDialog, Dialog, Empty, ErrorBanner, formatDate, Loading, Pager, useLoad, SaveFooter } from "../../components/ui";
import { canManageOrg, fieldErrors, ORG_ROLES, otherErrors, slugProblem, type FieldErrors } from "../../lib/forms";
import "../profile/account.css";

const PAGE_SIZE = 10;

export default function OrganizationPage() {
  const { org, organizations, organizationsLoaded, error } = useSession();
  const [params, setParams] = useSearchParams();
  const creating = params.get("create") === "1";
  const current = org ? organizations.find((o) => o.slug === org) : undefined;
  const closeCreate = () => {
    const next = new URLSearchParams(params);
    next.delete("create");
    setParams(next);
  };
  return (
    <section aria-labelledby="org-title">
      {current ? (
        <CurrentOrganization id={current.id} />
      ) : org && !organizationsLoaded && !error ? (
        <Loading what="Loading the organization" /> // not the personal view for a moment
      ) : (
        <PersonalWorkspace />
      )}
      {creating ? <CreateOrganizationDialog onClose={closeCreate} /> : null}
    </section>
  );
}

function CreateButton() {
  const [params, setParams] = useSearchParams();
  return (
    <button
      type="button"
      className="primary"
      onClick={() => {
        const next = new URLSearchParams(params);
        next.set("create", "1");
        setParams(next);
      }}
    >
      Create an organization
    </button>
  );
}

// --- the personal workspace ----------------------------------------------------------------------

function PersonalWorkspace() {
  const { organizations, chooseOrg } = useSession();
  const invitations = useLoad(() => api.get<Paginated<Invitation>>("/api/invitations", { page_size: 50 }), []);
  const [busy, setBusy] = useState<unknown>(null);
  const pending = invitations.data?.results.filter((i) => !i.accepted) ?? [];
  const answer = async (invitation: Invitation, accept: boolean) => {
    try {
      await api.post(`/api/invitations/${encodeURIComponent(invitation.key)}/${accept ? "accept" : "decline"}`);
      if (accept) {
        chooseOrg(invitation.organization_info.slug);
        window.location.assign("/organization");
      } else invitations.reload();
    } catch (error) {
      setBusy(error);
    }
  };
  return (
    <>
      <div className="page-head">
        <h1 id="org-title">Organizations</h1>
        <CreateButton />
      </div>
      <p className="muted">You are in your personal workspace. Choose an organization in the switcher at the top, or create one.</p>
      {organizations.length === 0 ? (
        <Empty>You are not a member of any organization yet.</Empty>
      ) : (
        <ul className="cards" aria-label="Your organizations">
          {organizations.map((o) => (
            <li key={o.id} className="card">
              <strong>{o.name || o.slug}</strong>
              <span>
                {o.slug} · owner {o.owner?.username ?? "none"} · created {formatDate(o.created_date)}
              </span>
              <div>
                <button
                  type="button"
                  onClick={() => {
                    chooseOrg(o.slug);
                    window.location.assign("/organization");
                  }}
                >
                  Switch to {o.slug}
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      <div className="account-section">
        <h2>Invitations to you</h2>
        <ErrorBanner error={invitations.error ?? busy} onRetry={invitations.reload} />
        {invitations.loading && !invitations.data ? <Loading what="Loading invitations" /> : null}
        {invitations.data && pending.length === 0 ? <Empty>No open invitations.</Empty> : null}
        {pending.length > 0 ? (
          <table className="grid">
            <thead>
              <tr>
                <th>Organization</th>
                <th>Role</th>
                <th>From</th>
                <th>Date</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {pending.map((i) => (
                <tr key={i.key}>
                  <td>{i.organization_info.slug}</td>
                  <td>{i.role}</td>
                  <td>{i.owner?.username ?? ""}</td>
                  <td>{formatDate(i.created_date)}</td>
                  <td className="actions-cell">
                    <button type="button" className="primary" disabled={i.expired === true} onClick={() => void answer(i, true)}>
                      Accept
                    </button>
                    <button type="button" onClick={() => void answer(i, false)}>
                      Decline
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </div>
    </>
  );
}

// --- creating --------------------------------------------------------------------------------------

function CreateOrganizationDialog({ onClose }: { onClose(): void }) {
  const { chooseOrg } = useSession();
  const [slug, setSlug] = useState("");
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problem = slugProblem(slug.trim());
    if (problem) {
      setErrors({ slug: problem });
      return;
    }
    setBusy(true);
    setErrors({});
    setError(null);
    try {
      const created = await api.request<Organization>("POST", "/api/organizations", {
        body: { slug: slug.trim(), name: name.trim() || slug.trim(), description },
        withOrg: false,
      });
      chooseOrg(created.slug);
      window.location.assign("/organization"); // every list and permission depends on it
    } catch (e) {
      const fields = e instanceof ApiError ? fieldErrors(e.body) : {};
      setErrors(fields);
      const rest = otherErrors(fields, ["slug", "name", "description"]);
      setError(rest ? new Error(rest) : Object.keys(fields).length ? null : e);
      setBusy(false);
    }
  }

  return (
    <Dialog title="Create an organization" onClose={onClose}>
      <form onSubmit={submit} className="form-grid">
        <label>
          Short name (slug)
          <input value={slug} onChange={(e) => setSlug(e.target.value)} required maxLength={16} aria-invalid={Boolean(errors.slug)} aria-describedby="org-slug-error" autoFocus />
          <span id="org-slug-error" className="field-error">
            {errors.slug}
          </span>
        </label>
        <label>
          Full name
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={64} />
          <span className="field-error">{errors.name}</span>
        </label>
        <label className="wide">
          Description
          <textarea value={description} onChange={(e) => setDescription(e.target.value)} rows={3} />
        </label>
        <div className="wide">
          <ErrorBanner error={error} />
          <div className="actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={busy}>
              Create
            </button>
          </div>
        </div>
      </form>
    </Dialog>
  );
}

// --- one organization ------------------------------------------------------------------------------

function CurrentOrganization({ id }: { id: number }) {
  const { user } = useSession();
  const org = useLoad(() => api.get<Organization>(`/api/organizations/${id}`), [id]);
  const [memberPage, setMemberPage] = useState(1);
  const members = useLoad(() => api.get<Paginated<Membership>>("/api/memberships", { page: memberPage, page_size: PAGE_SIZE }), [memberPage]);
  const mine = useLoad(() => api.get<Paginated<Membership>>("/api/memberships", { user: user?.username ?? "", page_size: 1 }), [user?.id]);
  const isAdmin = Boolean(user?.is_staff || user?.is_superuser);
  const myMembership = mine.data?.results.find((m) => m.user.id === user?.id);
  const manage = canManageOrg(myMembership?.role, isAdmin);
  const isOwner = org.data?.owner?.id === user?.id;

  if (org.error) return <ErrorBanner error={org.error} onRetry={org.reload} />;
  if (!org.data) return <Loading what="Loading the organization" />;
  return (
    <>
      <div className="page-head">
        <h1 id="org-title">Organization {org.data.name || org.data.slug}</h1>
        <CreateButton />
      </div>
      <p className="muted">
        {org.data.slug} · owner {org.data.owner?.username ?? "none"} · created {formatDate(org.data.created_date)}
        {myMembership ? ` · your role: ${myMembership.role}` : ""}
      </p>
      <OrganizationDetails org={org.data} editable={manage} onSaved={org.reload} />
      <Members
        members={members.data}
        loading={members.loading}
        error={members.error}
        reload={() => {
          members.reload();
          mine.reload();
        }}
        page={memberPage}
        onPage={setMemberPage}
        manage={manage}
        myId={user?.id}
      />
      {manage ? <Invitations onChanged={members.reload} /> : null}
      {isOwner || isAdmin ? <DeleteOrganization org={org.data} /> : null}
    </>
  );
}

function OrganizationDetails({ org, editable, onSaved }: { org: Organization; editable: boolean; onSaved(): void }) {
  const [name, setName] = useState(org.name);
  const [description, setDescription] = useState(org.description);
  const [email, setEmail] = useState(org.contact.email ?? "");
  const [phone, setPhone] = useState(org.contact.mobileNumber ?? "");
  const [location, setLocation] = useState(org.contact.location ?? "");
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const contact: Record<string, string> = { ...org.contact, email, mobileNumber: phone, location };
      for (const key of Object.keys(contact)) if (!contact[key]) delete contact[key];
      await api.patch(`/api/organizations/${org.id}`, { name, description, contact });
      setSaved(true);
      onSaved();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="account-section card">
      <h2>Details</h2>
      <form onSubmit={submit} className="form-grid">
        <label>
          Full name
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={64} disabled={!editable} />
        </label>
        <label>
          Contact email
          <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} disabled={!editable} />
        </label>
        <label>
          Contact phone
          <input value={phone} onChange={(e) => setPhone(e.target.value)} disabled={!editable} />
        </label>
        <label>
          Location
          <input value={location} onChange={(e) => setLocation(e.target.value)} disabled={!editable} />
        </label>
        <label className="wide">
          Description
          <textarea value={description} onChange={(e) => setDescription(e.target.value)} rows={2} disabled={!editable} />
        </label>
        {editable ? (
          <SaveFooter error={error} saved={saved} busy={busy} />
        ) : (
          <p className="wide muted">Only the organization's owner and maintainers can change its details.</p>
        )}
      </form>
    </div>
  );
}

function Members(props: {
  members: Paginated<Membership> | undefined;
  loading: boolean;
  error: unknown;
  reload(): void;
  page: number;
  onPage(page: number): void;
  manage: boolean;
  myId: number | undefined;
}) {
  const { members, manage, myId } = props;
  const [removing, setRemoving] = useState<Membership | null>(null);
  const [error, setError] = useState<unknown>(null);
  const changeRole = async (membership: Membership, role: string) => {
    setError(null);
    try {
      await api.patch(`/api/memberships/${membership.id}`, { role });
      props.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="account-section">
      <h2>Members</h2>
      <ErrorBanner error={props.error ?? error} onRetry={props.reload} />
      {props.loading && !members ? <Loading what="Loading members" /> : null}
      {members && members.count === 0 ? <Empty>No members.</Empty> : null}
      {members && members.count > 0 ? (
        <>
          <table className="grid" aria-label="Members">
            <thead>
              <tr>
                <th>User</th>
                <th>Name</th>
                <th>Role</th>
                <th>Joined</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {members.results.map((m) => {
                const self = m.user.id === myId;
                return (
                  <tr key={m.id}>
                    <td>{m.user.username}</td>
                    <td>{[m.user.first_name, m.user.last_name].filter(Boolean).join(" ")}</td>
                    <td>
                      {manage && m.role !== "owner" ? (
                        <select aria-label={`Role of ${m.user.username}`} value={m.role} onChange={(e) => void changeRole(m, e.target.value)}>
                          {ORG_ROLES.filter((r) => r !== "owner").map((r) => (
                            <option key={r} value={r}>
                              {r}
                            </option>
                          ))}
                        </select>
                      ) : (
                        m.role
                      )}
                    </td>
                    <td>{m.is_active ? formatDate(m.joined_date) : <span className="badge">invited</span>}</td>
                    <td className="actions-cell">
                      {self && m.role !== "owner" ? (
                        <button type="button" onClick={() => setRemoving(m)}>
                          Leave organization
                        </button>
                      ) : null}
                      {!self && manage && m.role !== "owner" ? (
                        <button type="button" className="danger" aria-label={`Remove ${m.user.username}`} onClick={() => setRemoving(m)}>
                          Remove
                        </button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <Pager page={props.page} pageSize={PAGE_SIZE} count={members.count} onPage={props.onPage} />
        </>
      ) : null}
      {removing ? (
        <ConfirmDialog
          title={removing.user.id === myId ? "Leave the organization" : "Remove a member"}
          message={removing.user.id === myId ? "You will lose access to the organization's projects, tasks and jobs." : `Remove ${removing.user.username} from the organization?`}
          confirm={removing.user.id === myId ? "Leave" : "Remove"}
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            await api.delete(`/api/memberships/${removing.id}`);
            if (removing.user.id === myId) window.location.assign("/profile");
            else props.reload();
          }}
        />
      ) : null}
    </div>
  );
}

function Invitations({ onChanged }: { onChanged(): void }) {
  const [page, setPage] = useState(1);
  const invitations = useLoad(() => api.get<Paginated<Invitation>>("/api/invitations", { page, page_size: PAGE_SIZE }), [page]);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("worker");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const [withdrawing, setWithdrawing] = useState<Invitation | null>(null);

  async function invite(event: FormEvent) {
    event.preventDefault();
    setErrors({});
    setError(null);
    setNotice("");
    try {
      await api.post("/api/invitations", { email: email.trim(), role });
      setNotice(`Invited ${email.trim()} as ${role}.`);
      setEmail("");
      invitations.reload();
      onChanged();
    } catch (e) {
      const fields = e instanceof ApiError ? fieldErrors(e.body) : {};
      setErrors(fields);
      const rest = otherErrors(fields, ["email", "role"]);
      setError(rest ? new Error(rest) : Object.keys(fields).length ? null : e);
    }
  }

  const resend = async (invitation: Invitation) => {
    setError(null);
    try {
      await api.post(`/api/invitations/${encodeURIComponent(invitation.key)}/resend`);
      setNotice(`Sent the invitation to ${invitation.user.username} again.`);
    } catch (e) {
      setError(e);
    }
  };

  return (
    <div className="account-section">
      <h2>Invitations</h2>
      <form onSubmit={invite} className="form-row" aria-label="Invite a user">
        <label>
          Email to invite
          <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} aria-invalid={Boolean(errors.email)} aria-describedby="invite-email-error" />
        </label>
        <label>
          Role
          <select aria-label="Role" value={role} onChange={(e) => setRole(e.target.value)}>
            {ORG_ROLES.filter((r) => r !== "owner").map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary">
          Invite
        </button>
      </form>
      <span id="invite-email-error" className="field-error">
        {errors.email ?? errors.role}
      </span>
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      <ErrorBanner error={invitations.error ?? error} onRetry={invitations.reload} />
      {invitations.loading && !invitations.data ? <Loading what="Loading invitations" /> : null}
      {invitations.data && invitations.data.count === 0 ? <Empty>No invitations.</Empty> : null}
      {invitations.data && invitations.data.count > 0 ? (
        <>
          <table className="grid" aria-label="Invitations">
            <thead>
              <tr>
                <th>User</th>
                <th>Role</th>
                <th>Invited by</th>
                <th>Date</th>
                <th>State</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {invitations.data.results.map((i) => (
                <tr key={i.key}>
                  <td>{i.user.username}</td>
                  <td>{i.role}</td>
                  <td>{i.owner?.username ?? ""}</td>
                  <td>{formatDate(i.created_date)}</td>
                  <td>{i.accepted ? "accepted" : i.expired ? "expired" : "pending"}</td>
                  <td className="actions-cell">
                    {!i.accepted ? (
                      <button type="button" aria-label={`Resend the invitation to ${i.user.username}`} onClick={() => void resend(i)}>
                        Resend
                      </button>
                    ) : null}
                    {!i.accepted ? (
                      <button type="button" className="danger" aria-label={`Withdraw the invitation to ${i.user.username}`} onClick={() => setWithdrawing(i)}>
                        Withdraw
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} pageSize={PAGE_SIZE} count={invitations.data.count} onPage={setPage} />
        </>
      ) : null}
      {withdrawing ? (
        <ConfirmDialog
          title="Withdraw an invitation"
          message={`Withdraw the invitation to ${withdrawing.user.username}?`}
          confirm="Withdraw"
          onClose={() => setWithdrawing(null)}
          onConfirm={async () => {
            await api.delete(`/api/invitations/${encodeURIComponent(withdrawing.key)}`);
            invitations.reload();
            onChanged();
          }}
        />
      ) : null}
    </div>
  );
}

function DeleteOrganization({ org }: { org: Organization }) {
  const { chooseOrg } = useSession();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div className="account-section card danger-zone">
      <h2>Delete the organization</h2>
      <p>Deleting the organization deletes its projects, tasks, jobs, webhooks and memberships. This cannot be undone.</p>
      <button type="button" className="danger" onClick={() => setOpen(true)}>
        Delete organization
      </button>
      {open ? (
        <Dialog title="Delete the organization" onClose={() => setOpen(false)}>
          <form
            onSubmit={async (event) => {
              event.preventDefault();
              setBusy(true);
              setError(null);
              try {
                await api.delete(`/api/organizations/${org.id}`);
                chooseOrg("");
                window.location.assign("/organization");
              } catch (e) {
                setError(e);
                setBusy(false);
              }
            }}
          >
            <label>
              Type the short name “{org.slug}” to confirm
              <input value={typed} onChange={(e) => setTyped(e.target.value)} autoFocus />
            </label>
            <ErrorBanner error={error} />
            <div className="actions">
              <button type="button" onClick={() => setOpen(false)}>
                Cancel
              </button>
              <button type="submit" className="danger" disabled={busy || typed !== org.slug}>
                Delete {org.slug}
              </button>
            </div>
          </form>
        </Dialog>
      ) : null}
    </div>
  );
}
