"""Work units: independent spans of chunks that parallel workers (Lambdas in a Map state) build.

Each unit is a run of consecutive chunks whose frames a worker decodes once, starting from the
keyframe before its first frame: an hour of video becomes ~300 units of ~13 s of CPU each, not
one serial job. Cuts between units are placed at chunk boundaries, preferring boundaries just
after a keyframe so that little is decoded twice.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .chunks import ChunkKind, ChunkResult, ChunkSettings, write_chunks
from .frames import ChunkSpec
from .manifest import Manifest
from .probe import VideoSource

# ~10 CVAT chunks: per-unit start-up (open, seek, decode from the keyframe) then costs a few %.
DEFAULT_UNIT_FRAMES = 360
# Images have no seek to amortise, and their cost grows with their pixels: a unit holds about this
# many 1080p frames' worth (a 12 MP photo counts ~6 times), so a folder of photos spreads over many
# workers instead of filling one unit of 360 photos (a minute of one core's work).
IMAGE_UNIT_1080P_FRAMES = 120
_1080P = 1920 * 1080


def default_unit_frames(manifest: Manifest) -> int:
    """The unit size ``plan_work_units`` uses when none is given (see the constants above)."""
    if manifest.media_type == "video" or manifest.size == 0:
        return DEFAULT_UNIT_FRAMES
    first = manifest.frame(0)
    area = max(1, first.width * first.height)
    return max(1, round(IMAGE_UNIT_1080P_FRAMES * _1080P / area))


@dataclass(frozen=True, slots=True)
class WorkUnit:
    """A span of chunks for one worker. Small enough for a Step Functions payload (no frame data)."""

    number: int
    chunks: tuple[ChunkSpec, ...]
    seek_frame: int | None = None  # video: source frame of the keyframe decoding starts from
    seek_pts: int | None = None

    @property
    def first_frame(self) -> int:
        return min(c.start for c in self.chunks)

    @property
    def last_frame(self) -> int:
        return max(c.stop for c in self.chunks)

    @property
    def frame_count(self) -> int:
        return len({f for c in self.chunks for f in c.frames})

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "chunks": [c.to_dict() for c in self.chunks],
            "seek_frame": self.seek_frame,
            "seek_pts": self.seek_pts,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkUnit:
        return cls(
            data["number"],
            tuple(ChunkSpec.from_dict(c) for c in data["chunks"]),
            data.get("seek_frame"),
            data.get("seek_pts"),
        )


def _decode_waste(manifest: Manifest, chunk: ChunkSpec) -> int:
    """Frames decoded and thrown away when a unit starts at this chunk."""
    info = manifest.frame(chunk.start)
    return 0 if info.keyframe is None else info.source - info.keyframe


def plan_work_units(
    manifest: Manifest,
    chunks: Sequence[ChunkSpec],
    *,
    target_frames: int | None = None,
    slack: float = 0.5,
) -> list[WorkUnit]:
    """Group chunks (in the order given: segment by segment) into units of ~``target_frames``
    (``default_unit_frames``: 360 video frames, or images by their pixels).

    Once a unit reaches ``target_frames`` it is cut at the boundary, within the next
    ``slack * target_frames`` frames, that wastes the fewest decoded frames for the next unit; a
    tail shorter than that joins the last unit.
    Every chunk lands in exactly one unit; order is kept.
    """
    if target_frames is None:
        target_frames = default_unit_frames(manifest)
    if target_frames < 1:
        raise ValueError("target_frames must be >= 1")
    units: list[list[ChunkSpec]] = []
    current: list[ChunkSpec] = []
    size = 0
    i = 0
    while i < len(chunks):
        current.append(chunks[i])
        size += chunks[i].size
        i += 1
        if size >= target_frames and i < len(chunks):
            rest = sum(c.size for c in chunks[i:])
            if rest <= slack * target_frames:
                # A short tail would be a unit that mostly opens, seeks and decodes waste.
                current.extend(chunks[i:])
                i = len(chunks)
                break
            # Look ahead for the cheapest cut within the slack.
            best_j, best_waste = i, _decode_waste(manifest, chunks[i])
            extra, j = 0, i
            while j + 1 < len(chunks) and best_waste > 0:
                extra += chunks[j].size
                if extra > slack * target_frames:
                    break
                waste = _decode_waste(manifest, chunks[j + 1])
                if waste < best_waste:
                    best_j, best_waste = j + 1, waste
                j += 1
            current.extend(chunks[i:best_j])
            i = best_j
            units.append(current)
            current, size = [], 0
    if current:
        units.append(current)
    return [_unit(manifest, n, tuple(u)) for n, u in enumerate(units)]


def _unit(manifest: Manifest, number: int, chunks: tuple[ChunkSpec, ...]) -> WorkUnit:
    first = manifest.frame(min(c.start for c in chunks))
    return WorkUnit(number, chunks, first.keyframe, first.keyframe_pts)


def chunk_path(root: str | os.PathLike[str], kind: ChunkKind | str, chunk: ChunkSpec, ext: str) -> Path:
    """``<root>/<kind>/[segment_<s>/]<number>.<ext>``: a local layout mirroring the S3 keys."""
    base = Path(root) / ChunkKind(kind).value
    if chunk.segment is not None:
        base = base / f"segment_{chunk.segment}"
    return base / f"{chunk.number}.{ext}"


def run_work_unit(
    manifest: Manifest,
    unit: WorkUnit,
    source: VideoSource,
    out_dir: str | os.PathLike[str],
    *,
    kinds: Iterable[ChunkKind | str] = (ChunkKind.COMPRESSED, ChunkKind.ORIGINAL),
    settings: ChunkSettings | None = None,
) -> list[ChunkResult]:
    """Build every chunk of a unit under ``out_dir`` (see :func:`chunk_path`)."""
    settings = settings or ChunkSettings()
    video_mp4 = manifest.media_type == "video" and settings.video_original == "video"

    def dest(chunk: ChunkSpec, kind: ChunkKind) -> Path:
        ext = "mp4" if kind is ChunkKind.ORIGINAL and video_mp4 else "zip"
        return chunk_path(out_dir, kind, chunk, ext)

    return write_chunks(manifest, unit.chunks, source, dest, kinds=kinds, settings=settings)


def iter_units_payload(units: Iterable[WorkUnit]) -> Iterator[dict[str, Any]]:
    """The units as JSON-ready dicts (a Map state's items)."""
    for u in units:
        yield u.to_dict()
