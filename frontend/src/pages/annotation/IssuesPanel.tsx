// The issues tab of the sidebar (review): every issue of the job with its frame and first message;
// a click goes to the issue's frame and highlights it; the selected issue's thread below (its
// comments, a reply box, Resolve / Reopen and Delete).
import { useEffect, useState } from "react";
import { api } from "../../api/client";
import { ConfirmDialog, ErrorBanner, formatDate, Loading } from "../../components/ui";
import { userName } from "../../lib/frames";
import { issueCounts, issueRows, sortComments, type Issue, type IssueComment } from "./review";
import { fetchAll } from "./useWorkspace";

interface Props {
  issues: readonly Issue[];
  firstMessages: ReadonlyMap<number, string>;
  selectedId: number | null;
  onSelect(issue: Issue): void;
  /** an issue changed (PATCH) or was deleted (null) */
  onChanged(id: number, issue: Issue | null): void;
  /** a comment was added to an issue (its first one becomes its message) */
  onComment(comment: IssueComment): void;
}

function Thread({ issue, onChanged, onComment }: { issue: Issue; onChanged: Props["onChanged"]; onComment: Props["onComment"] }) {
  const [comments, setComments] = useState<IssueComment[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  useEffect(() => {
    let current = true;
    setComments(null);
    fetchAll<IssueComment>("/api/comments", { issue_id: issue.id, page_size: 100 }).then(
      (list) => current && setComments(sortComments(list)),
      (e: unknown) => current && setError(e),
    );
    return () => {
      current = false;
    };
  }, [issue.id]);
  const run = async (body: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await body();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="ws-thread" role="region" aria-label={`Issue #${issue.id}`}>
      <div className="ws-thread-head">
        <strong>
          Issue #{issue.id} on frame {issue.frame}
        </strong>
        <span className={issue.resolved ? "ws-resolved" : "ws-open"}>{issue.resolved ? "resolved" : "open"}</span>
      </div>
      <ErrorBanner error={error} />
      {comments === null && !error ? <Loading what="Loading the comments" /> : null}
      <ol className="ws-comments">
        {(comments ?? []).map((c) => (
          <li key={c.id}>
            <span className="muted">
              {userName(c.owner) || "someone"}, {formatDate(c.created_date)}
            </span>
            <p>{c.message}</p>
          </li>
        ))}
      </ol>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const text = message.trim();
          if (!text) return;
          void run(async () => {
            const comment = await api.post<IssueComment>("/api/comments", { issue: issue.id, message: text });
            setComments((list) => sortComments([...(list ?? []), comment]));
            setMessage("");
            onComment(comment);
          });
        }}
      >
        <label>
          <span className="sr-only">Reply</span>
          <textarea aria-label="Reply" rows={2} value={message} placeholder="Reply…" onChange={(event) => setMessage(event.target.value)} />
        </label>
        <div className="actions">
          <button type="submit" disabled={busy || !message.trim()}>
            Comment
          </button>
          <button
            type="button"
            disabled={busy}
            onClick={() => void run(async () => onChanged(issue.id, await api.patch<Issue>(`/api/issues/${issue.id}`, { resolved: !issue.resolved })))}
          >
            {issue.resolved ? "Reopen" : "Resolve"}
          </button>
          <button type="button" className="danger" disabled={busy} onClick={() => setConfirmDelete(true)}>
            Delete issue
          </button>
        </div>
      </form>
      {confirmDelete ? (
        <ConfirmDialog
          title={`Delete issue #${issue.id}?`}
          message="The issue and its comments are deleted."
          onConfirm={async () => {
            await api.delete(`/api/issues/${issue.id}`);
            onChanged(issue.id, null);
          }}
          onClose={() => setConfirmDelete(false)}
        />
      ) : null}
    </div>
  );
}

export function IssuesPanel({ issues, firstMessages, selectedId, onSelect, onChanged, onComment }: Props) {
  const [resolvedToo, setResolvedToo] = useState(true);
  const rows = issueRows(issues, firstMessages, resolvedToo);
  const selected = selectedId === null ? undefined : issues.find((i) => i.id === selectedId);
  return (
    <section className="ws-issues" aria-label="Issues">
      <div className="ws-objects-tools">
        <span className="muted">{issueCounts(issues)}</span>
        <label className="ws-inline">
          <input type="checkbox" checked={resolvedToo} onChange={(event) => setResolvedToo(event.target.checked)} />
          Show resolved
        </label>
      </div>
      {rows.length === 0 ? (
        <p className="empty">No issues. Turn on Review and drag a region on the frame to open one.</p>
      ) : (
        <ul className="ws-issue-list" aria-label="Issues of the job">
          {rows.map((row) => (
            <li key={row.id}>
              <button
                type="button"
                className={`ws-issue-row${row.id === selectedId ? " selected" : ""}`}
                aria-current={row.id === selectedId ? "true" : undefined}
                onClick={() => {
                  const issue = issues.find((i) => i.id === row.id);
                  if (issue) onSelect(issue);
                }}
              >
                <span className={row.resolved ? "ws-resolved" : "ws-open"} aria-label={row.resolved ? "resolved" : "open"}>
                  ●
                </span>
                <span>#{row.id}</span>
                <span className="muted">frame {row.frame}</span>
                <span className="ws-issue-message">{row.message || <em className="muted">no message</em>}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {selected ? <Thread key={selected.id} issue={selected} onChanged={onChanged} onComment={onComment} /> : null}
    </section>
  );
}
