"""/api/issues and /api/comments: review issues on job frames and their discussion."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from .. import http
from ..params import list_params
from ..present import Presenter
from ..schemas import issues as si
from ._common import Call, ObjectId, patched

router = Router()
ISSUE_TAGS = ["issues"]
COMMENT_TAGS = ["comments"]


@router.get("/api/issues", tags=ISSUE_TAGS, summary="Issues visible to the caller")
@list_params("job_id", "task_id", "frame_id", "resolved", "owner", "assignee")
def list_issues(**_: str | None) -> si.PaginatedIssueReadList:
    call = Call(router)
    params = call.query
    http.int_param(params, "frame_id")
    page = call.services.issues.list(call.ctx, params, job_id=http.int_param(params, "job_id"),
                                     task_id=http.int_param(params, "task_id"))
    return si.PaginatedIssueReadList.model_validate(call.show_page(page, Presenter.issue))


@router.post("/api/issues", tags=ISSUE_TAGS, summary="Open an issue (with its first comment)", status_code=201)
def create_issue(body: si.IssueWriteRequest) -> si.IssueRead:
    from ...services.issues import IssueCreate

    call = Call(router)
    issue = call.services.issues.create(call.ctx, IssueCreate(
        job_id=body.job, frame=body.frame, position=list(body.position), message=body.message,
        assignee_id=body.assignee, resolved=body.resolved,
    ))
    return call.show(issue, Presenter.issue)


@router.get("/api/issues/<id>", tags=ISSUE_TAGS, summary="One issue")
def get_issue(id: ObjectId) -> si.IssueRead:
    call = Call(router)
    return call.show(call.services.issues.get(call.ctx, id), Presenter.issue)


@router.patch("/api/issues/<id>", tags=ISSUE_TAGS, summary="Move, assign or resolve an issue")
def update_issue(id: ObjectId, body: si.PatchedIssueWriteRequest | None = None) -> si.IssueRead:
    call = Call(router)
    body = body or si.PatchedIssueWriteRequest()
    issue = call.services.issues.update(
        call.ctx, id,
        position=patched(body, "position", nullable=False),
        assignee_id=patched(body, "assignee"),
        resolved=patched(body, "resolved", nullable=False),
    )
    return call.show(issue, Presenter.issue)


@router.delete("/api/issues/<id>", tags=ISSUE_TAGS, summary="Delete an issue with its comments")
def delete_issue(id: ObjectId) -> Response[None]:
    call = Call(router)
    call.services.issues.delete(call.ctx, id)
    return Response(status_code=204)


@router.get("/api/comments", tags=COMMENT_TAGS, summary="Comments visible to the caller")
@list_params("issue_id", "job_id", "frame_id", "owner")
def list_comments(**_: str | None) -> si.PaginatedCommentReadList:
    call = Call(router)
    params = call.query
    http.int_param(params, "frame_id")
    page = call.services.comments.list_comments(call.ctx, params, issue_id=http.int_param(params, "issue_id"),
                                                job_id=http.int_param(params, "job_id"))
    return si.PaginatedCommentReadList.model_validate(call.show_page(page, Presenter.comment))


@router.post("/api/comments", tags=COMMENT_TAGS, summary="Comment on an issue", status_code=201)
def create_comment(body: si.CommentWriteRequest) -> si.CommentRead:
    call = Call(router)
    comment = call.services.comments.create_comment(call.ctx, body.issue, body.message)
    return call.show(comment, Presenter.comment)


@router.get("/api/comments/<id>", tags=COMMENT_TAGS, summary="One comment")
def get_comment(id: ObjectId) -> si.CommentRead:
    call = Call(router)
    return call.show(call.services.comments.get_comment(call.ctx, id), Presenter.comment)


@router.patch("/api/comments/<id>", tags=COMMENT_TAGS, summary="Edit a comment's message")
def update_comment(id: ObjectId, body: si.PatchedCommentWriteRequest | None = None) -> si.CommentRead:
    call = Call(router)
    body = body or si.PatchedCommentWriteRequest()
    comment = call.services.comments.update_comment(call.ctx, id, patched(body, "message", nullable=False))
    return call.show(comment, Presenter.comment)


@router.delete("/api/comments/<id>", tags=COMMENT_TAGS, summary="Delete a comment")
def delete_comment(id: ObjectId) -> Response[None]:
    call = Call(router)
    call.services.comments.delete_comment(call.ctx, id)
    return Response(status_code=204)
