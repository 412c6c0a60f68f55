"""The frame manifest: every task frame, its name and size, and for video the keyframe to seek from.

It is what lets any frame, chunk or preview be produced without decoding from the start (CVAT's
``manifest.jsonl`` idea). CVAT builds its video manifest by decoding the whole video; here it
comes from the demux-only index in :mod:`.probe`, ~1,000x faster.

JSON Lines: one header object, then one object per task frame in task order. Keys are sorted and
separators compact, so the same input always gives the same bytes.
"""

from __future__ import annotations

import json
import os
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, TextIO

from cvat_serverless.domain.tasks import SortingMethod

from .frames import FrameSelection, select_frames
from .probe import DEFAULT_MAX_PIXELS, VideoIndex, index_video, probe_image
from .sorting import sort_names

MANIFEST_VERSION = 1


@dataclass(frozen=True, slots=True)
class ManifestFrame:
    """One line of the manifest: a task frame and where to decode it from. ``width``/``height``
    are the served (upright) size.

    Not the dataset view's :class:`~cvat_serverless.domain.annotations.FrameInfo` (frame, name,
    size, subset: what exports and imports see); this adds what the decoder needs (source frame,
    EXIF orientation, pts and the keyframe to seek from)."""

    index: int  # task frame number
    name: str  # image: path relative to the media folder; video: frame_{source:06d}
    width: int
    height: int
    source: int  # source frame number (sorted image position / video display position)
    # images
    format: str | None = None
    orientation: int = 1
    # video
    pts: int | None = None
    keyframe: int | None = None  # source frame number of the keyframe to seek from
    keyframe_pts: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "i": self.index,
            "name": self.name,
            "w": self.width,
            "h": self.height,
            "src": self.source,
        }
        if self.format is not None:
            d["fmt"] = self.format
        if self.orientation != 1:
            d["orient"] = self.orientation
        if self.pts is not None:
            d["pts"] = self.pts
            d["key"] = self.keyframe
            d["key_pts"] = self.keyframe_pts
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ManifestFrame:
        return cls(
            index=d["i"],
            name=d["name"],
            width=d["w"],
            height=d["h"],
            source=d["src"],
            format=d.get("fmt"),
            orientation=d.get("orient", 1),
            pts=d.get("pts"),
            keyframe=d.get("key"),
            keyframe_pts=d.get("key_pts"),
        )


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What the decoder of a span needs to know about the video."""

    name: str
    codec: str
    rotation: int
    fps: Fraction
    time_base: Fraction
    frame_count: int  # source frames
    keyframes: tuple[int, ...]  # source frame numbers

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "codec": self.codec,
            "rotation": self.rotation,
            "fps": str(self.fps),
            "time_base": str(self.time_base),
            "frame_count": self.frame_count,
            "keyframes": list(self.keyframes),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VideoInfo:
        return cls(
            d["name"],
            d["codec"],
            d["rotation"],
            Fraction(d["fps"]),
            Fraction(d["time_base"]),
            d["frame_count"],
            tuple(d["keyframes"]),
        )


@dataclass(frozen=True, slots=True)
class Manifest:
    """Every frame of a task, in task order."""

    media_type: str  # "images" | "video"
    selection: FrameSelection
    frames: tuple[ManifestFrame, ...] = field(repr=False)
    video: VideoInfo | None = None

    @property
    def size(self) -> int:
        return len(self.frames)

    def frame(self, index: int) -> ManifestFrame:
        return self.frames[index]

    def to_jsonl(self, out: TextIO | None = None) -> str:
        header: dict[str, Any] = {
            "version": MANIFEST_VERSION,
            "type": self.media_type,
            "size": self.size,
            "start_frame": self.selection.start_frame,
            "stop_frame": self.selection.stop_frame,
            "step": self.selection.step,
        }
        if self.video is not None:
            header["video"] = self.video.to_dict()
        lines = [_dump(header)] + [_dump(f.to_dict()) for f in self.frames]
        text = "\n".join(lines) + "\n"
        if out is not None:
            out.write(text)
        return text

    @classmethod
    def from_jsonl(cls, source: str | Iterable[str]) -> Manifest:
        lines = source.splitlines() if isinstance(source, str) else source
        it = (line for line in lines if line.strip())
        header = json.loads(next(it))
        if header.get("version") != MANIFEST_VERSION:
            raise ValueError(f"unsupported manifest version {header.get('version')!r}")
        frames = tuple(ManifestFrame.from_dict(json.loads(line)) for line in it)
        if len(frames) != header["size"]:
            raise ValueError(f"manifest lists {len(frames)} frames, its header says {header['size']}")
        video = VideoInfo.from_dict(header["video"]) if "video" in header else None
        selection = FrameSelection(header["start_frame"], header["stop_frame"], header["step"])
        return cls(header["type"], selection, frames, video)


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def build_image_manifest(
    root: str | os.PathLike[str],
    names: Sequence[str],
    *,
    sorting_method: SortingMethod | str = SortingMethod.LEXICOGRAPHICAL,
    seed: int | None = None,
    start_frame: int = 0,
    stop_frame: int | None = None,
    step: int = 1,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> Manifest:
    """Sort the images, apply start/stop/step and probe the selected ones (headers only)."""
    ordered = sort_names(names, sorting_method, seed=seed)
    selection = select_frames(len(ordered), start_frame=start_frame, stop_frame=stop_frame, step=step)
    root = Path(root)
    frames = []
    for index, source in enumerate(selection.source_frames()):
        name = ordered[source]
        p = probe_image(root / name, name=name, max_pixels=max_pixels)
        frames.append(ManifestFrame(index, name, p.width, p.height, source, format=p.format, orientation=p.orientation))
    return Manifest("images", selection, tuple(frames))


def build_video_manifest(
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    start_frame: int = 0,
    stop_frame: int | None = None,
    step: int = 1,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    index: VideoIndex | None = None,
) -> Manifest:
    """Index the video by demuxing (no decode) and list the selected frames with their keyframes."""
    index = index or index_video(path, name=name, max_pixels=max_pixels)
    probe = index.probe
    selection = select_frames(probe.frame_count, start_frame=start_frame, stop_frame=stop_frame, step=step)
    keyframes = list(probe.keyframes)
    if not keyframes or keyframes[0] != 0:
        # Streams that do not flag the first frame (some MPEG-TS cuts): decoding starts at the top.
        keyframes.insert(0, 0)
    frames = []
    for i, source in enumerate(selection.source_frames()):
        key = keyframes[bisect_right(keyframes, source) - 1]
        frames.append(
            ManifestFrame(
                i,
                f"frame_{source:06d}",
                probe.width,
                probe.height,
                source,
                pts=index.pts[source],
                keyframe=key,
                keyframe_pts=index.pts[key],
            )
        )
    video = VideoInfo(
        probe.name,
        probe.codec,
        probe.rotation,
        probe.fps,
        probe.time_base,
        probe.frame_count,
        tuple(keyframes),
    )
    return Manifest("video", selection, tuple(frames), video)
