// The REST client of the UI: CVAT's API on the same origin, CVAT's session cookie + CSRF login.
// Unsafe methods send the `csrftoken` cookie's value as X-CSRFToken (Django's rule, which the API
// applies). The organization is carried as CVAT's UI carries it: `org=<slug>` on every request
// (`org=` is the personal workspace).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The message CVAT's error bodies carry: `{"detail"}`, `["..."]`, or `{"field": ["..."]}`. */
export function errorMessage(body: unknown, status: number): string {
  if (typeof body === "string" && body.trim()) return body.trim().slice(0, 500);
  if (Array.isArray(body)) return body.map(String).join(" ");
  if (body && typeof body === "object") {
    const record = body as Record<string, unknown>;
    if (typeof record.detail === "string") return record.detail;
    const parts: string[] = [];
    for (const [field, value] of Object.entries(record)) {
      const text = Array.isArray(value) ? value.map(String).join(" ") : typeof value === "string" ? value : JSON.stringify(value);
      parts.push(field === "non_field_errors" ? text : `${field}: ${text}`);
    }
    if (parts.length) return parts.join("; ");
  }
  return `Request failed with status ${status}`;
}

export function cookie(name: string, source: string = typeof document === "undefined" ? "" : document.cookie): string | null {
  for (const part of source.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

export type Params = Record<string, string | number | boolean | undefined | null>;

export interface ClientOptions {
  base?: string;
  org?: () => string | null; // the current organization's slug; null: send nothing
  fetch?: typeof fetch;
  cookies?: () => string;
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export class ApiClient {
  private readonly base: string;
  private readonly org: () => string | null;
  private readonly doFetch: typeof fetch;
  private readonly cookies: () => string;
  private readonly prefetched = new Map<string, { at: number; answer: Promise<unknown> }>();

  constructor(options: ClientOptions = {}) {
    this.base = options.base ?? "";
    this.org = options.org ?? (() => null);
    this.doFetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.cookies = options.cookies ?? (() => (typeof document === "undefined" ? "" : document.cookie));
  }

  url(path: string, params: Params = {}, withOrg = true): string {
    const search = new URLSearchParams();
    const org = withOrg ? this.org() : null;
    if (org !== null && !("org" in params) && !("org_id" in params)) search.set("org", org);
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined && value !== null) search.set(key, String(value));
    }
    const query = search.toString();
    return `${this.base}${path}${query ? `?${query}` : ""}`;
  }

  async request<T>(method: string, path: string, options: { params?: Params; body?: unknown; headers?: Record<string, string>; withOrg?: boolean } = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    let body: BodyInit | undefined;
    if (options.body !== undefined) {
      if (options.body instanceof FormData || options.body instanceof Blob) body = options.body;
      else {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(options.body);
      }
    }
    if (UNSAFE.has(method)) {
      const token = cookie("csrftoken", this.cookies());
      if (token) headers["X-CSRFToken"] = token;
    }
    const response = await this.doFetch(this.url(path, options.params, options.withOrg ?? true), {
      method,
      headers,
      body,
      credentials: "same-origin",
    });
    const text = await response.text();
    let parsed: unknown = text;
    if (text && (response.headers.get("Content-Type") ?? "").includes("json")) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!response.ok) throw new ApiError(response.status, errorMessage(parsed, response.status), parsed);
    return (text ? parsed : undefined) as T;
  }

  /** Start a GET now; the next `get` of the same URL within 5 s takes its answer (once), or, if
   *  that answer was an error (e.g. 401 before signing in), asks again. The app asks the first
   *  page of the list being opened before React renders (main.tsx). */
  prefetch(path: string, params?: Params): void {
    const answer = this.request("GET", path, { params });
    answer.catch(() => undefined); // its taker asks again; nobody else must see it
    this.prefetched.set(this.url(path, params), { at: Date.now(), answer });
  }

  /** Drop every answer not taken yet (signing out: the next user must not get them). */
  forgetPrefetched(): void {
    this.prefetched.clear();
  }

  get<T>(path: string, params?: Params): Promise<T> {
    const key = this.url(path, params);
    const early = this.prefetched.get(key);
    if (early) {
      this.prefetched.delete(key);
      if (Date.now() - early.at < 5_000) {
        return (early.answer as Promise<T>).catch(() => this.request<T>("GET", path, { params }));
      }
    }
    return this.request<T>("GET", path, { params });
  }

  post<T>(path: string, body?: unknown, params?: Params, headers?: Record<string, string>): Promise<T> {
    return this.request<T>("POST", path, { body, params, headers });
  }

  patch<T>(path: string, body: unknown, params?: Params): Promise<T> {
    return this.request<T>("PATCH", path, { body, params });
  }

  put<T>(path: string, body: unknown, params?: Params): Promise<T> {
    return this.request<T>("PUT", path, { body, params });
  }

  delete<T = void>(path: string, params?: Params): Promise<T> {
    return this.request<T>("DELETE", path, { params });
  }
}

const ORG_KEY = "cvat.org";

/** The organization chosen in the switcher: a slug, "" for the personal workspace, null: none chosen. */
export function currentOrg(): string | null {
  if (typeof localStorage === "undefined") return null;
  return localStorage.getItem(ORG_KEY);
}

export function setCurrentOrg(slug: string | null): void {
  if (slug === null) localStorage.removeItem(ORG_KEY);
  else localStorage.setItem(ORG_KEY, slug);
}

export const api = new ApiClient({ org: currentOrg });
