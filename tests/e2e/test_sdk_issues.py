"""Review issues and comments with the official cvat-sdk 2.80 against the embedded runtime:
client.issues / client.comments, Job.get_issues(), Issue.get_comments(), updates, deletes and a
refused issue (CVAT's 400)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("cvat_sdk")
conftest = pytest.importorskip("tests.e2e.conftest")  # the embedded-runtime fixtures

from cvat_sdk import Client, Config, models  # noqa: E402
from cvat_sdk.api_client.exceptions import ApiException  # noqa: E402
from cvat_sdk.core.proxies.tasks import ResourceType  # noqa: E402
from PIL import Image  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
USER, PASSWORD = "e2e-review", "e2e-review-pass-1"


@pytest.fixture(scope="module")
def client(runtime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    made = conftest.cli("createsuperuser", "--username", USER, "--email", "review@example.com",
                        "--password", PASSWORD, data_dir=runtime.data_dir)
    assert made.returncode == 0, made.stderr
    with Client(runtime.url, config=Config(status_check_period=0.2)) as c:
        c.login((USER, PASSWORD))
        yield c


def test_issues_and_comments_round_trip(client: Client, tmp_path: Path):
    files = []
    for i in range(4):
        Image.new("RGB", (32, 24), (40 * i, 80, 120)).save(tmp_path / f"f{i}.png")
        files.append(str(tmp_path / f"f{i}.png"))
    task = client.tasks.create_from_data({"name": "e2e review", "labels": [{"name": "car"}], "segment_size": 2},
                                         resources=files, resource_type=ResourceType.LOCAL)
    job = min(task.get_jobs(), key=lambda j: j.start_frame)

    issue = client.issues.create(models.IssueWriteRequest(
        frame=job.start_frame + 1, position=[1.0, 2.0, 10.0, 12.5], job=job.id, message="a car is missing"))
    assert (issue.job, issue.frame, issue.resolved, issue.comments.count) == (job.id, job.start_frame + 1, False, 1)
    assert [i.id for i in job.get_issues()] == [issue.id]
    assert [c.message for c in issue.get_comments()] == ["a car is missing"]

    reply = client.comments.create(models.CommentWriteRequest(issue=issue.id, message="added"))
    reply.update(models.PatchedCommentWriteRequest(message="added, please check"))
    assert client.comments.retrieve(reply.id).message == "added, please check"
    issue.update(models.PatchedIssueWriteRequest(resolved=True, position=[0.0, 0.0, 5.0, 5.0]))
    again = client.issues.retrieve(issue.id)
    assert again.resolved and again.position == [0.0, 0.0, 5.0, 5.0] and again.comments.count == 2
    assert issue.id in [i.id for i in client.issues.list()]
    assert client.jobs.retrieve(job.id).issues.count == 1

    with pytest.raises(ApiException) as refused:
        client.issues.create(models.IssueWriteRequest(frame=job.stop_frame + 1, position=[1.0, 2.0], job=job.id,
                                                      message="outside the job"))
    assert refused.value.status == 400

    reply.remove()
    assert [c.message for c in issue.get_comments()] == ["a car is missing"]
    issue.remove()
    assert job.get_issues() == []
    task.remove()
