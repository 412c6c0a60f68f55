// Administration (staff only): the server's identity, the checks the API can answer from a browser
// (about, formats, plugins, the caller's rights), and the users list with search and pages.
// `cvat-serverless health` checks the AWS parts themselves (README, "Admin guide").
import { useState, type FormEvent } from "react";
import { api } from "../../api/client";
import type { AboutServer, DatasetFormatsInfo, Paginated, User } from "../../api/types";
import { useSession } from "../../auth/session";
import { listParams, useListQuery } from "../../components/ListControls";
import { Empty, ErrorBanner, formatDate, Loading, messageOf, Pager, useLoad } from "../../components/ui";
import "../profile/account.css";

interface Check {
  name: string;
  ok: boolean;
  message: string;
}

async function runChecks(): Promise<{ about: AboutServer | null; checks: Check[] }> {
  const [about, formats, plugins, self] = await Promise.allSettled([
    api.request<AboutServer>("GET", "/api/server/about", { withOrg: false }),
    api.request<DatasetFormatsInfo>("GET", "/api/server/annotation/formats", { withOrg: false }),
    api.request<Record<string, boolean>>("GET", "/api/server/plugins", { withOrg: false }),
    api.request<User>("GET", "/api/users/self", { withOrg: false }),
  ]);
  const checks: Check[] = [];
  checks.push(
    about.status === "fulfilled"
      ? { name: "API answers (server about)", ok: true, message: `${about.value.name} ${about.value.version}` }
      : { name: "API answers (server about)", ok: false, message: messageOf(about.reason) },
  );
  if (formats.status === "fulfilled") {
    const importers = formats.value.importers.filter((f) => f.enabled).length;
    const exporters = formats.value.exporters.filter((f) => f.enabled).length;
    checks.push({ name: "Annotation formats", ok: importers > 0 && exporters > 0, message: `${importers} importers, ${exporters} exporters enabled` });
  } else checks.push({ name: "Annotation formats", ok: false, message: messageOf(formats.reason) });
  checks.push(
    plugins.status === "fulfilled"
      ? {
          name: "Optional parts",
          ok: true,
          message:
            Object.entries(plugins.value)
              .map(([k, v]) => `${k.toLowerCase()}: ${v ? "on" : "off"}`)
              .join(", ") || "none",
        }
      : { name: "Optional parts", ok: false, message: messageOf(plugins.reason) },
  );
  if (self.status === "fulfilled") {
    const me = self.value;
    const admin = me.is_staff || me.is_superuser;
    const rights = [me.is_superuser ? "superuser" : "", me.is_staff ? "staff" : "", ...me.groups].filter(Boolean).join(", ");
    checks.push({ name: "Your rights", ok: admin && me.is_active, message: `${me.username}: ${rights || "no groups"}${me.is_active ? "" : " (inactive)"}` });
  } else checks.push({ name: "Your rights", ok: false, message: messageOf(self.reason) });
  return { about: about.status === "fulfilled" ? about.value : null, checks };
}

export default function AdminPage() {
  const { user, loading } = useSession();
  // the page renders beside the session check: an administrator is not told off meanwhile
  if (loading && !user) return <Loading what="Checking your rights" />;
  if (!user || !(user.is_staff || user.is_superuser)) {
    return (
      <section aria-labelledby="admin-title">
        <h1 id="admin-title">Administration</h1>
        <div role="alert" className="error-banner">
          This page is for administrators only.
        </div>
      </section>
    );
  }
  return <Admin user={user} />;
}

function Admin({ user }: { user: User }) {
  const status = useLoad(() => runChecks(), [user.id]);
  return (
    <section aria-labelledby="admin-title">
      <div className="page-head">
        <h1 id="admin-title">Administration</h1>
        <button type="button" onClick={status.reload}>
          Check again
        </button>
      </div>
      <ErrorBanner error={status.error} onRetry={status.reload} />
      {status.loading && !status.data ? <Loading what="Checking the server" /> : null}
      {status.data ? (
        <>
          {status.data.about ? (
            <div className="card" aria-label="Server">
              <h2>{status.data.about.name}</h2>
              <p>
                Version <strong data-testid="server-version">{status.data.about.version}</strong>
              </p>
              <p className="muted">{status.data.about.description}</p>
            </div>
          ) : null}
          <div className="account-section">
            <h2>Status</h2>
            <table className="grid" aria-label="Status checks">
              <thead>
                <tr>
                  <th>Check</th>
                  <th>Result</th>
                  <th>Message</th>
                </tr>
              </thead>
              <tbody>
                {status.data.checks.map((c) => (
                  <tr key={c.name}>
                    <td>{c.name}</td>
                    <td>
                      <span className={`badge ${c.ok ? "ok" : "fail"}`}>{c.ok ? "OK" : "Failed"}</span>
                    </td>
                    <td>{c.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p className="muted">
              The AWS parts (table, bucket, queues, state machines, event bus) are checked by <code>cvat-serverless health</code> on the server.
            </p>
          </div>
        </>
      ) : null}
      <Users />
    </section>
  );
}

function Users() {
  const [query, setQuery] = useListQuery("username", 20);
  const [search, setSearch] = useState(query.search);
  const users = useLoad(() => api.request<Paginated<User>>("GET", "/api/users", { params: listParams(query), withOrg: false }), [query.page, query.search, query.sort]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setQuery({ search: search.trim() });
  };
  return (
    <div className="account-section">
      <h2>Users</h2>
      <div className="list-controls">
        <form role="search" onSubmit={submit}>
          <input type="search" aria-label="Search users" placeholder="Search users" value={search} onChange={(e) => setSearch(e.target.value)} />
          <button type="submit">Search</button>
        </form>
        <label>
          Sort by{" "}
          <select aria-label="Sort users by" value={query.sort} onChange={(e) => setQuery({ sort: e.target.value })}>
            <option value="username">Username</option>
            <option value="-id">Newest</option>
            <option value="id">Oldest</option>
          </select>
        </label>
      </div>
      <ErrorBanner error={users.error} onRetry={users.reload} />
      {users.loading && !users.data ? <Loading what="Loading users" /> : null}
      {users.data && users.data.count === 0 ? <Empty>No users match.</Empty> : null}
      {users.data && users.data.count > 0 ? (
        <>
          <table className="grid" aria-label="Users">
            <thead>
              <tr>
                <th>ID</th>
                <th>Username</th>
                <th>Name</th>
                <th>Email</th>
                <th>Active</th>
                <th>Staff</th>
                <th>Superuser</th>
                <th>Joined</th>
                <th>Last login</th>
              </tr>
            </thead>
            <tbody>
              {users.data.results.map((u) => (
                <tr key={u.id}>
                  <td>{u.id}</td>
                  <td>{u.username}</td>
                  <td>{[u.first_name, u.last_name].filter(Boolean).join(" ")}</td>
                  <td>{u.email}</td>
                  <td>{u.is_active ? "yes" : "no"}</td>
                  <td>{u.is_staff ? "yes" : "no"}</td>
                  <td>{u.is_superuser ? "yes" : "no"}</td>
                  <td>{formatDate(u.date_joined)}</td>
                  <td>{formatDate(u.last_login) || "never"}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={query.page} pageSize={query.pageSize} count={users.data.count} onPage={(page) => setQuery({ page })} />
        </>
      ) : null}
    </div>
  );
}
