// The webhook form's event list: CVAT's `/api/webhooks/events` answer grouped for display, and the
// "select all" state of a set of checkboxes.

export interface WebhookEventOption {
  key: string;
  group: { display_name: string };
}

/** Events grouped by their display name, groups and keys in a stable order. */
export function groupEvents(events: readonly WebhookEventOption[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const event of events) {
    const name = event.group.display_name || "Other";
    const keys = groups.get(name) ?? [];
    keys.push(event.key);
    groups.set(name, keys);
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, keys]) => [name, [...keys].sort()]);
}

export type AllState = "all" | "some" | "none";

export function selectionState(available: readonly string[], chosen: readonly string[]): AllState {
  const set = new Set(chosen);
  const picked = available.filter((k) => set.has(k)).length;
  if (available.length > 0 && picked === available.length) return "all";
  return picked === 0 ? "none" : "some";
}

/** Toggles one event; returns a new list in `available`'s order. */
export function toggleEvent(available: readonly string[], chosen: readonly string[], key: string): string[] {
  const set = new Set(chosen);
  if (set.has(key)) set.delete(key);
  else set.add(key);
  return available.filter((k) => set.has(k));
}

/** A delivery's request or response for display: JSON pretty-printed, text as it came. */
export function showPayload(value: unknown): string {
  if (value === null || value === undefined || value === "") return "(empty)";
  if (typeof value === "string") {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2);
}
