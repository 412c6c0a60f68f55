// Field-level messages from CVAT's validation bodies ({"field": ["message", ...]}), so a form can
// show each one on its own input, and what is left over in a banner.

export type FieldErrors = Record<string, string>;

/** CVAT's `{"field": ["..."]}` body as one message per field; `non_field_errors`/`detail` under "". */
export function fieldErrors(body: unknown): FieldErrors {
  const out: FieldErrors = {};
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    if (Array.isArray(body)) out[""] = body.map(String).join(" ");
    return out;
  }
  for (const [field, value] of Object.entries(body as Record<string, unknown>)) {
    const text = Array.isArray(value) ? value.map(String).join(" ") : typeof value === "string" ? value : JSON.stringify(value);
    const key = field === "non_field_errors" || field === "detail" ? "" : field;
    out[key] = out[key] ? `${out[key]} ${text}` : text;
  }
  return out;
}

/** The messages of `errors` whose field is not among `shown` (they go to the banner). */
export function otherErrors(errors: FieldErrors, shown: readonly string[]): string {
  return Object.entries(errors)
    .filter(([field]) => !shown.includes(field))
    .map(([field, text]) => (field ? `${field}: ${text}` : text))
    .join("; ");
}

/** An organization slug as CVAT accepts it: 1-16 of letters, digits, "-" and "_". */
export function slugProblem(slug: string): string | null {
  if (!slug) return "A short name is required.";
  if (slug.length > 16) return "At most 16 characters.";
  if (!/^[-a-zA-Z0-9_]+$/.test(slug)) return "Only letters, digits, '-' and '_'.";
  return null;
}

export const ORG_ROLES = ["owner", "maintainer", "supervisor", "worker"] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

/** Who may change the organization and its members (CVAT: owners and maintainers; admins all). */
export function canManageOrg(role: string | null | undefined, isAdmin: boolean): boolean {
  return isAdmin || role === "owner" || role === "maintainer";
}

/** A date input's "YYYY-MM-DD" as the end of that day in UTC (an access token's expiry), or null. */
export function endOfDay(date: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return null;
  return `${date}T23:59:59Z`;
}
