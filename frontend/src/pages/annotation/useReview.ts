// The workspace's review: the job's issues and their first messages, the selected issue (its marker
// highlighted on the canvas), "Review" mode (the engine's region mode while no issue is being
// written) and the new-issue flow (a dragged region opens the dialog; the created issue joins the list).
import { useEffect, useState, type Dispatch, type SetStateAction } from "react";
import type { CanvasEngine } from "../../annotation/canvas/engine";
import type { EngineEvents } from "../../annotation/canvas/types";
import { firstMessages, issueMarkers, regionPosition, replaceIssue, type Issue, type IssueComment } from "./review";
import type { WorkspaceData } from "./useWorkspace";

type Region = [number, number, number, number];

interface ReviewInput {
  data: WorkspaceData;
  engine: CanvasEngine | null;
  frame: number;
  setFrame(frame: number): void;
  /** Opens the sidebar's issues tab. */
  showIssues(): void;
}

export interface Review {
  issues: Issue[];
  openIssues: number;
  messages: ReadonlyMap<number, string>;
  selectedIssue: number | null;
  reviewing: boolean;
  setReviewing: Dispatch<SetStateAction<boolean>>;
  /** The top bar's Review button: a drawing in progress is cancelled. */
  toggleReviewing(): void;
  /** The region of the issue being written, if any. */
  newIssueAt: Region | null;
  closeNewIssue(): void;
  issueCreated(issue: Issue, message: string): void;
  /** The issues panel's callbacks. */
  panel: { onSelect(issue: Issue): void; onChanged(id: number, issue: Issue | null): void; onComment(comment: IssueComment): void };
  events: Pick<EngineEvents, "region" | "issueClicked">;
}

export function useReview({ data, engine, frame, setFrame, showIssues }: ReviewInput): Review {
  const [reviewing, setReviewing] = useState(false);
  const [newIssueAt, setNewIssueAt] = useState<Region | null>(null);
  const [issues, setIssues] = useState<Issue[]>(data.issues);
  const [messages, setMessages] = useState<ReadonlyMap<number, string>>(() => firstMessages(data.comments));
  const [selectedIssue, setSelectedIssue] = useState<number | null>(null);

  useEffect(() => {
    engine?.setIssues(issueMarkers(issues, frame, selectedIssue));
  }, [engine, issues, frame, selectedIssue]);

  // review: region mode while "Review" is on and no issue is being written
  useEffect(() => {
    if (!engine || !reviewing || newIssueAt) return;
    engine.startRegion();
    return () => {
      if (engine.mode() === "region") engine.cancel();
    };
  }, [engine, reviewing, newIssueAt]);

  return {
    issues,
    openIssues: issues.filter((i) => !i.resolved).length,
    messages,
    selectedIssue,
    reviewing,
    setReviewing,
    toggleReviewing: () => {
      if (engine?.mode() === "draw") engine.cancel();
      setReviewing((r) => !r);
    },
    newIssueAt,
    closeNewIssue: () => setNewIssueAt(null),
    issueCreated: (issue, message) => {
      setIssues((list) => [...list, issue]);
      setMessages((m) => new Map(m).set(issue.id, message));
      setSelectedIssue(issue.id);
      showIssues();
    },
    panel: {
      onSelect: (issue) => {
        setSelectedIssue(issue.id);
        setFrame(issue.frame);
      },
      onChanged: (id, issue) => {
        setIssues((list) => replaceIssue(list, id, issue));
        if (!issue && selectedIssue === id) setSelectedIssue(null);
      },
      onComment: (comment) =>
        setMessages((m) => {
          if (m.has(comment.issue)) return m;
          return new Map(m).set(comment.issue, comment.message);
        }),
    },
    events: {
      region: (points) => {
        const position = regionPosition(points);
        if (position) setNewIssueAt(position);
        else if (reviewing) engine?.startRegion();
      },
      issueClicked: (id) => {
        setSelectedIssue(id);
        showIssues();
      },
    },
  };
}
