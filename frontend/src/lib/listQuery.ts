// A resource list's query as the UI keeps it in the URL (?page=2&search=car&sort=-id&filter=...)
// and as CVAT's list endpoints take it. Pure: the list pages and the start-up prefetch share it.

export interface ListQuery {
  page: number;
  pageSize: number;
  search: string;
  sort: string;
  filter: string;
}

export const DEFAULT_SORT = "-id";
export const DEFAULT_PAGE_SIZE = 10;

export function parseListQuery(params: URLSearchParams, defaultSort = DEFAULT_SORT, pageSize = DEFAULT_PAGE_SIZE): ListQuery {
  return {
    page: Math.max(1, Math.floor(Number(params.get("page") ?? "1")) || 1),
    pageSize,
    search: params.get("search") ?? "",
    sort: params.get("sort") ?? defaultSort,
    filter: params.get("filter") ?? "",
  };
}

/** The URL's search part for ``query``: defaults left out, so a link stays short. */
export function listSearch(query: ListQuery, defaultSort = DEFAULT_SORT): URLSearchParams {
  const out = new URLSearchParams();
  if (query.page > 1) out.set("page", String(query.page));
  if (query.search) out.set("search", query.search);
  if (query.sort !== defaultSort) out.set("sort", query.sort);
  if (query.filter) out.set("filter", query.filter);
  return out;
}

/** The list request's parameters in CVAT's names. */
export function listParams(query: ListQuery): Record<string, string | number> {
  const params: Record<string, string | number> = { page: query.page, page_size: query.pageSize, sort: query.sort };
  if (query.search) params.search = query.search;
  if (query.filter) params.filter = query.filter;
  return params;
}

/** The lists in the app shell whose first page is requested at start-up, before React renders:
 *  page path -> API path (they use the default sort and page size). */
export const PREFETCHED_LISTS: Record<string, string> = {
  "/tasks": "/api/tasks",
  "/jobs": "/api/jobs",
  "/projects": "/api/projects",
  "/": "/api/tasks", // redirects to /tasks
};

/** The API request a page opened at ``path``/``search`` makes first, or null. */
export function firstListRequest(path: string, search: string): { path: string; params: Record<string, string | number> } | null {
  const api = PREFETCHED_LISTS[path.replace(/\/+$/, "") || "/"];
  return api ? { path: api, params: listParams(parseListQuery(new URLSearchParams(search))) } : null;
}
