import type { ReactNode } from "react";
import { NavLink, useNavigate } from "react-router";
import { useSession } from "../auth/session";

export function OrgSwitcher() {
  const { organizations, org, chooseOrg, error, user } = useSession();
  return (
    <label className="org-switcher">
      <span className="sr-only">Organization</span>
      <select
        aria-label="Organization"
        value={org ?? ""}
        onChange={(event) => {
          chooseOrg(event.target.value);
          window.location.reload(); // every list and permission depends on it, as in CVAT
        }}
      >
        <option value="">Personal workspace</option>
        {user && error ? (
          <option value={org ?? ""} disabled>
            Organizations could not be loaded
          </option>
        ) : null}
        {organizations.map((o) => (
          <option key={o.id} value={o.slug}>
            {o.name || o.slug}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const { user, org, signOut } = useSession();
  const navigate = useNavigate();
  const links: [string, string][] = [
    ["/projects", "Projects"],
    ["/tasks", "Tasks"],
    ["/jobs", "Jobs"],
    ["/requests", "Requests"],
    ...(org ? ([["/organization", "Organization"]] as [string, string][]) : []),
    ["/webhooks", "Webhooks"],
    ...(user?.is_staff || user?.is_superuser ? ([["/admin", "Admin"]] as [string, string][]) : []),
  ];
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">CVAT</span>
        <nav aria-label="Main">
          {links.map(([to, label]) => (
            <NavLink key={to} to={to}>
              {label}
            </NavLink>
          ))}
        </nav>
        <div className="spacer" />
        <OrgSwitcher />
        <NavLink to="/profile" aria-label="Profile">
          {user?.username}
        </NavLink>
        <button
          type="button"
          onClick={async () => {
            try {
              await signOut();
            } finally {
              navigate("/auth/login"); // signed out here even when the server did not answer
            }
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main">{children}</main>
    </div>
  );
}
