import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api, ApiError, currentOrg, setCurrentOrg } from "../api/client";
import type { Organization, Paginated, User } from "../api/types";

export interface Session {
  user: User | null;
  loading: boolean;
  organizations: Organization[];
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
  const [loading, setLoading] = useState(true);
  const [org, setOrg] = useState<string | null>(currentOrg());

  const refresh = useCallback(async () => {
    // the user first: pages render as soon as it is known (they started their own requests
    // already, see RequireUser); the organizations fill the switcher when they come
    let me: User;
    try {
      me = await api.request<User>("GET", "/api/users/self", { withOrg: false });
    } catch (error) {
      setLoading(false);
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        setUser(null);
        return;
      }
      throw error;
    }
    setUser(me);
    setLoading(false);
    const orgs = await api.request<Paginated<Organization>>("GET", "/api/organizations", {
      params: { page_size: 100 },
      withOrg: false,
    });
    setOrganizations(orgs.results);
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
      setUser(null);
      setOrganizations([]);
    }
  }, []);

  const chooseOrg = useCallback((slug: string) => {
    setCurrentOrg(slug);
    setOrg(slug);
  }, []);

  const value = useMemo<Session>(
    () => ({ user, loading, organizations, org, signIn, signOut, refresh, chooseOrg }),
    [user, loading, organizations, org, signIn, signOut, refresh, chooseOrg],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
