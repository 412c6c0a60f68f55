"""The import step's pieces that the API tests cannot reach easily: a video's frame names (CVAT's
``frame_<source frame>``) and the message of a failed import."""

from __future__ import annotations

import json

from cvat_serverless.domain.requests import failure_message
from cvat_serverless.domain.task_data import DataKeys, TaskData
from cvat_serverless.domain.tasks import ChunkType, Task
from tests.memory_world import memory_container


def test_a_videos_frames_are_named_by_their_source_frame():
    c = memory_container()
    task = c.repos.tasks.add(Task(id=1, name="video", owner_id=1, data_id=4, size=3, subset="train"))
    c.repos.task_data.add(TaskData(id=4, task_id=1, media_type="video", size=3, chunk_size=10, image_quality=70,
                                   compressed_chunk_type=ChunkType.VIDEO, original_chunk_type=ChunkType.VIDEO,
                                   original_ext="mp4", start_frame=2, frame_filter="step=3"))
    c.blobs.put(DataKeys(1, 4).frames_meta, json.dumps([{"name": "clip.mp4", "width": 640, "height": 360}]).encode())
    frames = c.import_worker._frames(task)
    assert [(f.frame, f.name, f.width, f.subset) for f in frames] == [
        (0, "frame_000002", 640, "train"), (1, "frame_000005", 640, "train"), (2, "frame_000008", 640, "train")]


def test_failure_messages():
    cause = json.dumps({"errorType": "FormatError", "errorMessage": "a.xml, line 3: unclosed tag"})
    assert failure_message("FormatError", cause, "import") == "a.xml, line 3: unclosed tag"
    crash = json.dumps({"errorType": "KeyError", "errorMessage": "'x'"})
    assert failure_message("KeyError", crash, "import") == "The import failed (KeyError): 'x'"
    assert failure_message("States.Timeout", "", "import") == "The import took too long and was stopped."
