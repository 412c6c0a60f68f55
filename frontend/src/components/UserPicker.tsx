// Picks a user (an assignee): shows the current one and, on "Change", searches
// `GET /api/users?search=` as the user types; each match is a button, so the keyboard reaches them.
import { useEffect, useId, useRef, useState } from "react";
import { api } from "../api/client";
import type { BasicUser, Paginated } from "../api/types";
import { userName } from "../lib/frames";
import { ErrorBanner } from "./ui";

export interface UserPickerProps {
  label: string; // the accessible name, e.g. "Assignee of job 3"
  value: BasicUser | null;
  onChange(user: BasicUser | null): Promise<unknown> | void;
  disabled?: boolean;
  emptyText?: string;
}

const DEBOUNCE_MS = 250;

export function UserPicker({ label, value, onChange, disabled = false, emptyText = "Nobody" }: UserPickerProps) {
  const [open, setOpen] = useState(false);
  const [term, setTerm] = useState("");
  const [matches, setMatches] = useState<BasicUser[]>([]);
  const [searching, setSearching] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const listId = useId();
  // closing (a choice, Cancel, Escape) removes the focused control: focus goes back to "Change"
  const changeButton = useRef<HTMLButtonElement>(null);
  const wasOpen = useRef(false);
  useEffect(() => {
    if (wasOpen.current && !open) changeButton.current?.focus();
    wasOpen.current = open;
  }, [open]);

  useEffect(() => {
    if (!open) return;
    let cancelled = false;
    setSearching(true);
    const timer = window.setTimeout(() => {
      api
        .get<Paginated<BasicUser>>("/api/users", { search: term.trim() || undefined, page_size: 10, sort: "username" })
        .then(
          (page) => {
            if (cancelled) return;
            setMatches(page.results);
            setError(null);
          },
          (reason: unknown) => {
            if (!cancelled) setError(reason);
          },
        )
        .finally(() => {
          if (!cancelled) setSearching(false);
        });
    }, DEBOUNCE_MS);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [open, term]);

  async function choose(user: BasicUser | null) {
    setBusy(true);
    setError(null);
    try {
      await onChange(user);
      setOpen(false);
      setTerm("");
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  if (!open) {
    return (
      <div className="user-picker">
        <span className={value ? undefined : "muted"}>{value ? userName(value) : emptyText}</span>
        <button ref={changeButton} type="button" className="link-button" aria-label={`Change ${label.toLowerCase()}`} disabled={disabled} onClick={() => setOpen(true)}>
          Change
        </button>
        <ErrorBanner error={error} />
      </div>
    );
  }

  return (
    <div className="user-picker open" role="group" aria-label={label}>
      <input
        type="search"
        aria-label={`Search users for ${label.toLowerCase()}`}
        aria-controls={listId}
        placeholder="Search users"
        autoFocus
        value={term}
        onChange={(e) => setTerm(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Escape") {
            e.preventDefault();
            e.stopPropagation();
            setOpen(false);
          }
        }}
      />
      <ul id={listId} className="user-matches" aria-label="Matching users" aria-busy={searching}>
        {matches.map((user) => (
          <li key={user.id}>
            <button type="button" disabled={busy} onClick={() => void choose(user)}>
              {userName(user)}
            </button>
          </li>
        ))}
        {!searching && matches.length === 0 ? <li className="muted">No users match</li> : null}
      </ul>
      <div className="user-picker-actions">
        {value ? (
          <button type="button" disabled={busy} onClick={() => void choose(null)}>
            Unassign
          </button>
        ) : null}
        <button type="button" disabled={busy} onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
      <ErrorBanner error={error} />
    </div>
  );
}
