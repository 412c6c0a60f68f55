// Review issues, pure: CVAT's issue and comment JSON (GET /api/issues, /api/comments), the markers
// the canvas draws for a frame, an issue's position from a dragged region, and the list the
// issues panel shows (each issue with its first message).
import type { BasicUser } from "../../api/types";
import type { IssueMarker } from "../../annotation/canvas/types";

/** CVAT's IssueRead. */
export interface Issue {
  id: number;
  frame: number;
  position: number[];
  job: number;
  owner: BasicUser | null;
  assignee: BasicUser | null;
  created_date: string | null;
  updated_date: string | null;
  resolved: boolean;
  comments: { count: number; url: string };
}

/** CVAT's CommentRead. */
export interface IssueComment {
  id: number;
  issue: number;
  owner: BasicUser | null;
  message: string;
  created_date: string | null;
  updated_date: string | null;
}

/** The body of POST /api/issues (CVAT's IssueWriteRequest). */
export interface NewIssue {
  frame: number;
  position: number[];
  job: number;
  message: string;
}

/** The markers of one frame's issues; the selected one flagged. */
export function issueMarkers(issues: readonly Issue[], frame: number, selectedId: number | null): IssueMarker[] {
  return issues
    .filter((issue) => issue.frame === frame)
    .map((issue) => ({ id: issue.id, points: [...issue.position], resolved: issue.resolved, selected: issue.id === selectedId }));
}

/** A dragged rectangle as an issue position: x1 < x2, y1 < y2, rounded to 0.01 px; null when it has no area. */
export function regionPosition(points: readonly [number, number, number, number]): [number, number, number, number] | null {
  const [a, b, c, d] = points;
  const round = (v: number) => Math.round(v * 100) / 100;
  const x1 = round(Math.min(a, c));
  const x2 = round(Math.max(a, c));
  const y1 = round(Math.min(b, d));
  const y2 = round(Math.max(b, d));
  if (x2 - x1 < 1 || y2 - y1 < 1) return null;
  return [x1, y1, x2, y2];
}

/** The new issue's body, or the reason it cannot be sent. */
export function newIssue(job: number, frame: number, position: readonly number[], message: string): NewIssue | { error: string } {
  const text = message.trim();
  if (!text) return { error: "Write what is wrong: the first message of the issue." };
  if (position.length !== 4) return { error: "Drag a region on the frame first." };
  return { frame, position: [...position], job, message: text };
}

/** Comments oldest first (CVAT shows a thread in the order it was written). */
export function sortComments(comments: readonly IssueComment[]): IssueComment[] {
  return [...comments].sort((a, b) => (a.created_date ?? "").localeCompare(b.created_date ?? "") || a.id - b.id);
}

/** Each issue's first message, from the job's comments. */
export function firstMessages(comments: readonly IssueComment[]): Map<number, string> {
  const first = new Map<number, string>();
  for (const comment of sortComments(comments)) {
    if (!first.has(comment.issue)) first.set(comment.issue, comment.message);
  }
  return first;
}

export interface IssueRow {
  id: number;
  frame: number;
  resolved: boolean;
  message: string;
  comments: number;
}

/** The issues panel's rows: unresolved first (unless `resolvedToo` is false: those only), then by frame and id. */
export function issueRows(issues: readonly Issue[], first: ReadonlyMap<number, string>, resolvedToo: boolean): IssueRow[] {
  return issues
    .filter((issue) => resolvedToo || !issue.resolved)
    .map((issue) => ({ id: issue.id, frame: issue.frame, resolved: issue.resolved, message: first.get(issue.id) ?? "", comments: issue.comments?.count ?? 0 }))
    .sort((a, b) => Number(a.resolved) - Number(b.resolved) || a.frame - b.frame || a.id - b.id);
}

/** An issue replaced in the list (after PATCH), or removed (after DELETE: `next` null). */
export function replaceIssue(issues: readonly Issue[], id: number, next: Issue | null): Issue[] {
  return next ? issues.map((issue) => (issue.id === id ? next : issue)) : issues.filter((issue) => issue.id !== id);
}

/** "3 open, 1 resolved". */
export function issueCounts(issues: readonly Issue[]): string {
  const resolved = issues.filter((issue) => issue.resolved).length;
  return `${issues.length - resolved} open, ${resolved} resolved`;
}
