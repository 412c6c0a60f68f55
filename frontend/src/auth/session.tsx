import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api, ApiError, currentOrg, setCurrentOrg } from "../api/client";
import type { Organization, Paginated, User } from "../api/types";

export interface Session {
  user: User | null;
  loading: boolean;
  /** why the session or the organizations could not be read (not a missing session: that is user null) */
  error: unknown;
  organizations: Organization[];
  /** whether `organizations` holds the server's answer (not the empty list it starts with) */
  organizationsLoaded: boolean;
  org: string | null; // the chosen organization's slug; "" = personal workspace
  signIn(username: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  refresh(): Promise<void>;
  chooseOrg(slug: string): void;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error("useSession outside SessionProvider");
  return session;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [organizations, setOrganizations] = useState<Organization[]>([]);
  const [organizationsLoaded, setOrganizationsLoaded] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [org, setOrg] = useState<string | null>(currentOrg());

  const refresh = useCallback(async () => {
    // the user first: pages render as soon as it is known (they started their own requests
    // already, see RequireUser); the organizations fill the switcher when they come
    let me: User;
    try {
      me = await api.request<User>("GET", "/api/users/self", { withOrg: false });
    } catch (failure) {
      setLoading(false);
      setUser(null);
      // no session is not an error (the visitor signs in); anything else is shown with a retry
      setError(failure instanceof ApiError && (failure.status === 401 || failure.status === 403) ? null : failure);
      return;
    }
    setUser(me);
    setError(null);
    setLoading(false);
    let orgs: Paginated<Organization>;
    try {
      orgs = await api.request<Paginated<Organization>>("GET", "/api/organizations", {
        params: { page_size: 100 },
        withOrg: false,
      });
    } catch (failure) {
      setError(failure); // signed in all the same: the switcher says what went wrong
      return;
    }
    setOrganizations(orgs.results);
    setOrganizationsLoaded(true);
    const chosen = currentOrg();
    if (chosen && !orgs.results.some((o) => o.slug === chosen)) {
      setCurrentOrg("");
      setOrg("");
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const signIn = useCallback(
    async (username: string, password: string) => {
      await api.request("POST", "/api/auth/login", { body: { username, password }, withOrg: false });
      await refresh();
    },
    [refresh],
  );

  const signOut = useCallback(async () => {
    try {
      await api.request("POST", "/api/auth/logout", { withOrg: false });
    } finally {
      api.forgetPrefetched();
      setUser(null);
      setOrganizations([]);
      setOrganizationsLoaded(false);
    }
  }, []);

  const chooseOrg = useCallback((slug: string) => {
    setCurrentOrg(slug);
    setOrg(slug);
  }, []);

  const value = useMemo<Session>(
    () => ({ user, loading, error, organizations, organizationsLoaded, org, signIn, signOut, refresh, chooseOrg }),
    [user, loading, error, organizations, organizationsLoaded, org, signIn, signOut, refresh, chooseOrg],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
