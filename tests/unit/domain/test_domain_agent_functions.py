"""The native function's create body and the annotation request's state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cvat_serverless.domain.agent_functions import (
    AGENT_STOPPED,
    MAX_ATTEMPTS,
    SAVING_HOLD,
    AnnotationRequest,
    ArStatus,
    NativeFunctionKind,
    RequestCategory,
    function_from_body,
    parse_queue_id,
)
from cvat_serverless.domain.errors import ConflictError, NotFoundError, ThrottledError, ValidationError

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _ar(category: RequestCategory = RequestCategory.BATCH) -> AnnotationRequest:
    kind = "annotate_task" if category is RequestCategory.BATCH else "interact"
    return AnnotationRequest(id="ar-1", function_id=1, category=category, owner_id=7,
                             ar_params={"type": kind, "task": 3}, created_date=NOW)


def test_the_cli_body_of_a_detector_is_accepted_with_label_types_filled_in():
    fn = function_from_body({"provider": "native", "name": "Cars", "visibility": "public", "kind": "detector",
                             "labels_v2": [{"name": "car", "attributes": []},
                                           {"name": "box", "type": "rectangle", "attributes": [
                                               {"name": "color", "input_type": "select", "values": ["r", "g"]}]}]},
                            owner_id=5, organization_id=None)
    assert fn.kind is NativeFunctionKind.DETECTOR and fn.visibility.value == "public"
    assert [lb["type"] for lb in fn.labels_v2] == ["any", "rectangle"]  # the agent reads `type` of every label
    assert fn.labels_v2[1]["attributes"][0]["values"] == ["r", "g"] and fn.min_neg_points == -1


def test_interactor_and_tracker_fields():
    fn = function_from_body({"name": "SAM", "kind": "interactor", "min_pos_points": 1, "startswith_box_optional": True},
                            owner_id=5, organization_id=2)
    assert (fn.min_pos_points, fn.min_neg_points, fn.startswith_box, fn.startswith_box_optional) == (1, -1, False, True)
    tr = function_from_body({"name": "T", "kind": "tracker", "supported_shape_types": ["rectangle", "polygon"]},
                            owner_id=5, organization_id=None)
    assert tr.supported_shape_types == ["polygon", "rectangle"]


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "", "kind": "detector", "labels_v2": [{"name": "a"}]}, "name"),
    ({"name": "x", "kind": "classifier"}, "kind"),
    ({"name": "x", "kind": "detector", "labels_v2": []}, "labels_v2"),
    ({"name": "x", "kind": "detector", "labels_v2": [{"name": "a"}, {"name": "a"}]}, "labels_v2"),
    ({"name": "x", "kind": "detector", "labels_v2": [{"name": "a", "type": "blob"}]}, "labels_v2"),
    ({"name": "x", "kind": "detector", "labels_v2": [{"name": "a", "attributes": [{"name": "c"}]}]}, "labels_v2"),
    ({"name": "x", "kind": "detector", "visibility": "secret", "labels_v2": [{"name": "a"}]}, "visibility"),
    ({"name": "x", "kind": "detector", "provider": "nuclio", "labels_v2": [{"name": "a"}]}, "provider"),
    ({"name": "x", "kind": "interactor"}, "min_pos_points"),
    ({"name": "x", "kind": "interactor", "min_pos_points": 1, "min_neg_points": -2}, "min_neg_points"),
    ({"name": "x", "kind": "tracker", "supported_shape_types": ["blob"]}, "supported_shape_types"),
])
def test_bad_bodies_name_their_field(body, field):
    with pytest.raises(ValidationError) as raised:
        function_from_body(body, owner_id=1, organization_id=None)
    assert field in raised.value.fields


def test_acquire_update_complete_and_a_repeated_complete_is_a_no_op():
    ar = _ar()
    ar.acquire("agent-a", NOW)
    assert (ar.status, ar.agent_id, ar.attempts) == (ArStatus.ASSIGNED, "agent-a", 1)
    with pytest.raises(ConflictError):
        ar.acquire("agent-b", NOW)  # taken
    ar.update("agent-a", 0.5, NOW + timedelta(seconds=30))
    assert ar.progress == 0.5 and ar.lease == NOW + timedelta(seconds=30)
    assert ar.complete("agent-a", NOW + timedelta(minutes=1)) is True
    assert ar.status is ArStatus.COMPLETED and ar.progress == 1.0 and ar.finished_date is not None
    assert ar.complete("agent-a", NOW + timedelta(minutes=2)) is False  # the agent's retry
    with pytest.raises(ConflictError):
        ar.complete("agent-b", NOW)
    with pytest.raises(ConflictError):
        ar.fail("agent-a", "late", NOW)


def test_another_agent_may_not_report_on_an_ar_it_does_not_hold():
    ar = _ar()
    with pytest.raises(ConflictError):
        ar.update("agent-a", 0.1, NOW)  # still queued
    ar.acquire("agent-a", NOW)
    for report in (lambda: ar.update("agent-b", 0.1, NOW), lambda: ar.complete("agent-b", NOW),
                   lambda: ar.fail("agent-b", "x", NOW)):
        with pytest.raises(ConflictError):
            report()
    assert ar.fail("agent-a", "Worker process crashed", NOW) is True
    assert ar.fail("agent-a", "Worker process crashed", NOW) is False
    assert ar.exc_info == "Worker process crashed"


def test_a_silent_agent_loses_the_ar_after_its_lease_and_three_tries_fail_it():
    ar = _ar()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        ar.acquire(f"agent-{attempt}", NOW)
        assert not ar.reclaim(NOW + timedelta(minutes=5))  # exactly the lease: still held
        assert ar.reclaim(NOW + timedelta(minutes=5, seconds=1))
        if attempt < MAX_ATTEMPTS:
            assert ar.status is ArStatus.QUEUED and ar.agent_id is None
    assert ar.status is ArStatus.FAILED and ar.exc_info == AGENT_STOPPED
    with pytest.raises(ConflictError):
        ar.complete("agent-3", NOW)


def test_interactive_leases_are_short():
    ar = _ar(RequestCategory.INTERACTIVE)
    ar.acquire("a", NOW)
    assert not ar.expired(NOW + timedelta(seconds=30)) and ar.expired(NOW + timedelta(seconds=31))


def test_saving_an_ars_annotations_holds_it_until_it_is_completed():
    ar = _ar()
    ar.acquire("agent-1", NOW)
    assert ar.begin_saving("agent-1", NOW)
    assert ar.status is ArStatus.ASSIGNED  # not completed before its annotations are saved
    with pytest.raises(ThrottledError) as busy:  # a retry while the first call saves: come back later
        ar.begin_saving("agent-1", NOW + timedelta(seconds=5))
    assert busy.value.retry_after > 0
    with pytest.raises(ConflictError):
        ar.begin_saving("agent-2", NOW)
    assert ar.begin_saving("agent-1", NOW + SAVING_HOLD)  # the first call died: a retry saves
    assert ar.complete("agent-1", NOW + SAVING_HOLD)
    assert (ar.status, ar.saving_since) == (ArStatus.COMPLETED, None)
    assert not ar.begin_saving("agent-1", NOW + SAVING_HOLD * 2)  # a retried complete: nothing to do


def test_a_failed_save_gives_the_ar_back_to_its_agent():
    ar = _ar()
    ar.acquire("agent-1", NOW)
    ar.begin_saving("agent-1", NOW)
    ar.reopen("agent-1", NOW)
    assert (ar.status, ar.saving_since, ar.agent_id) == (ArStatus.ASSIGNED, None, "agent-1")
    assert ar.begin_saving("agent-1", NOW)  # at once: nothing is saving any more


def test_cancel():
    ar = _ar()
    assert ar.cancel(NOW) is True and ar.status is ArStatus.CANCELED
    assert ar.cancel(NOW) is False
    done = _ar()
    done.acquire("a", NOW)
    done.complete("a", NOW)
    with pytest.raises(ConflictError):
        done.cancel(NOW)


def test_queue_ids_in_both_spellings():
    assert parse_queue_id("function:12") == 12 and parse_queue_id("function%3A12") == 12
    for bad in ("function:x", "task:1", "12", "function:"):
        with pytest.raises(NotFoundError):
            parse_queue_id(bad)
