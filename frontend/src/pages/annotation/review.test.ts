import { describe, expect, it } from "vitest";
import { firstMessages, issueCounts, issueMarkers, issueRows, newIssue, regionPosition, replaceIssue, type Issue, type IssueComment } from "./review";

function issue(id: number, frame: number, resolved = false): Issue {
  return { id, frame, position: [1, 2, 30, 40], job: 7, owner: null, assignee: null, created_date: null, updated_date: null, resolved, comments: { count: 1, url: "" } };
}

function comment(id: number, issueId: number, message: string, created: string): IssueComment {
  return { id, issue: issueId, owner: null, message, created_date: created, updated_date: created };
}

describe("issueMarkers", () => {
  it("keeps the frame's issues and flags the selected one", () => {
    const markers = issueMarkers([issue(1, 0), issue(2, 3, true), issue(3, 3)], 3, 3);
    expect(markers).toEqual([
      { id: 2, points: [1, 2, 30, 40], resolved: true, selected: false },
      { id: 3, points: [1, 2, 30, 40], resolved: false, selected: true },
    ]);
  });
});

describe("regionPosition", () => {
  it("orders the corners and rounds", () => {
    expect(regionPosition([50.123, 60, 10, 20.456])).toEqual([10, 20.46, 50.12, 60]);
  });
  it("refuses a region without area", () => {
    expect(regionPosition([5, 5, 5.5, 40])).toBeNull();
  });
});

describe("newIssue", () => {
  it("builds CVAT's IssueWriteRequest", () => {
    expect(newIssue(7, 3, [1, 2, 3, 4], "  box too loose ")).toEqual({ job: 7, frame: 3, position: [1, 2, 3, 4], message: "box too loose" });
  });
  it("needs a message and a region", () => {
    expect(newIssue(7, 3, [1, 2, 3, 4], "  ")).toHaveProperty("error");
    expect(newIssue(7, 3, [], "x")).toHaveProperty("error");
  });
});

describe("issue list", () => {
  const comments = [comment(9, 1, "second", "2026-01-02T00:00:00Z"), comment(4, 1, "first", "2026-01-01T00:00:00Z"), comment(5, 2, "only", "2026-01-03T00:00:00Z")];
  it("takes each issue's oldest comment as its message", () => {
    expect(firstMessages(comments)).toEqual(
      new Map([
        [1, "first"],
        [2, "only"],
      ]),
    );
  });
  it("lists open issues first, by frame", () => {
    const rows = issueRows([issue(1, 5, true), issue(2, 9), issue(3, 1)], firstMessages(comments), true);
    expect(rows.map((row) => row.id)).toEqual([3, 2, 1]);
    expect(rows[2]!.message).toBe("first");
    expect(issueRows([issue(1, 5, true), issue(2, 9)], new Map(), false).map((row) => row.id)).toEqual([2]);
  });
  it("replaces and removes issues, and counts them", () => {
    const list = [issue(1, 0), issue(2, 0)];
    expect(replaceIssue(list, 2, issue(2, 0, true))[1]!.resolved).toBe(true);
    expect(replaceIssue(list, 1, null).map((i) => i.id)).toEqual([2]);
    expect(issueCounts([issue(1, 0), issue(2, 0, true), issue(3, 0)])).toBe("2 open, 1 resolved");
  });
});
