"""Safe extraction of zip and tar archives of images.

Every member name is checked before anything is written (absolute paths, ``..``, drive letters,
links and devices are refused: zip slip), the declared sizes are checked against the limits
(zip bombs), and the bytes actually written are counted again while extracting. On any error the
destination folder is removed, so no partial output is left behind.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .errors import (
    ArchiveBombError,
    CorruptMediaError,
    EmptyMediaError,
    UnsafeArchiveError,
    UnsupportedMediaError,
)
from .probe import image_names, is_ignored

_COPY_BLOCK = 1 << 20


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Bounds on what an archive may expand to. Lambda's /tmp is at most 10 GB."""

    max_total_bytes: int = 8 * 1024**3
    max_members: int = 200_000
    # Images are already compressed, so a high expansion ratio means a bomb, not a dataset.
    max_ratio: float = 200.0
    # Below this total, the ratio is not checked (small archives of flat images can compress well).
    ratio_floor_bytes: int = 64 * 1024**2


@dataclass(frozen=True, slots=True)
class _Member:
    name: str  # normalised, relative, '/'-separated
    size: int
    is_dir: bool


def safe_member_name(raw: str, archive: str) -> str:
    """A member name that stays inside the destination, or UnsafeArchiveError."""
    name = raw.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or "\x00" in name:
        raise UnsafeArchiveError(archive, f"member {raw!r} has an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise UnsafeArchiveError(archive, f"member {raw!r} points outside the archive folder")
    return posixpath.join(*parts) if parts else ""


def _zip_members(zf: zipfile.ZipFile, archive: str) -> Iterator[tuple[_Member, zipfile.ZipInfo]]:
    for info in zf.infolist():
        name = safe_member_name(info.filename, archive)
        mode = (info.external_attr >> 16) & 0o170000
        if mode == 0o120000:  # a symlink stored with its unix mode
            raise UnsafeArchiveError(archive, f"member {info.filename!r} is a symbolic link")
        if name:
            yield _Member(name, info.file_size, info.is_dir()), info


def _tar_members(tf: tarfile.TarFile, archive: str) -> Iterator[tuple[_Member, tarfile.TarInfo]]:
    for info in tf.getmembers():
        name = safe_member_name(info.name, archive)
        if info.issym() or info.islnk():
            raise UnsafeArchiveError(archive, f"member {info.name!r} is a link")
        if not (info.isfile() or info.isdir()):
            raise UnsafeArchiveError(archive, f"member {info.name!r} is a device or special file")
        if name:
            yield _Member(name, info.size, info.isdir()), info


def _check_totals(members: list[_Member], archive: str, compressed: int, limits: ArchiveLimits) -> None:
    if len(members) > limits.max_members:
        raise ArchiveBombError(archive, f"{len(members)} members exceed the limit of {limits.max_members}")
    total = sum(m.size for m in members)
    if total > limits.max_total_bytes:
        raise ArchiveBombError(archive, f"expands to {total} bytes, over the limit of {limits.max_total_bytes}")
    if total > limits.ratio_floor_bytes and total > limits.max_ratio * max(compressed, 1):
        raise ArchiveBombError(
            archive,
            f"expands {total / max(compressed, 1):.0f}x ({total} bytes), over the ratio limit {limits.max_ratio:g}",
        )


def _copy_limited(src: IO[bytes], dst: IO[bytes], budget: int, archive: str, member: str) -> int:
    written = 0
    while block := src.read(_COPY_BLOCK):
        written += len(block)
        if written > budget:
            raise ArchiveBombError(archive, f"member {member!r} expands beyond the size limit")
        dst.write(block)
    return written


def extract_images(
    archive_path: str | os.PathLike[str],
    dest_dir: str | os.PathLike[str],
    *,
    name: str | None = None,
    limits: ArchiveLimits = ArchiveLimits(),
) -> list[str]:
    """Extract the images of a zip or tar archive into ``dest_dir`` (created; must not exist).

    Returns the image names, relative to ``dest_dir``, in archive order. Other files are skipped,
    as CVAT does. Raises UnsafeArchiveError / ArchiveBombError / CorruptMediaError; on error,
    ``dest_dir`` is removed.
    """
    archive_path = Path(archive_path)
    dest = Path(dest_dir)
    name = name or archive_path.name
    compressed = archive_path.stat().st_size
    if compressed == 0:
        raise EmptyMediaError(name, "the archive is empty (0 bytes)")
    dest.mkdir(parents=True, exist_ok=False)
    try:
        return _extract(archive_path, dest, name, compressed, limits)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def _extract(archive_path: Path, dest: Path, name: str, compressed: int, limits: ArchiveLimits) -> list[str]:
    budget = limits.max_total_bytes
    extracted: list[str] = []
    if zipfile.is_zipfile(archive_path):
        try:
            with zipfile.ZipFile(archive_path) as zf:
                members = list(_zip_members(zf, name))
                _check_totals([m for m, _ in members], name, compressed, limits)
                wanted = set(image_names([m.name for m, _ in members if not m.is_dir]))
                for member, info in members:
                    if member.name not in wanted or is_ignored(member.name):
                        continue
                    target = dest / member.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(target, "xb") as dst:
                        budget -= _copy_limited(src, dst, min(budget, member.size), name, member.name)
                    extracted.append(member.name)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
            raise CorruptMediaError(name, f"damaged zip archive ({exc})") from exc
        except FileExistsError as exc:
            raise UnsafeArchiveError(name, f"the archive holds the same name twice ({exc.filename})") from exc
        except OSError as exc:
            raise CorruptMediaError(name, f"cannot extract the zip archive ({exc})") from exc
        return extracted
    if not tarfile.is_tarfile(archive_path):
        raise UnsupportedMediaError(name, "not a zip or tar archive")
    try:
        with tarfile.open(archive_path, mode="r:*") as tf:
            members_t = list(_tar_members(tf, name))
            _check_totals([m for m, _ in members_t], name, compressed, limits)
            wanted = set(image_names([m.name for m, _ in members_t if not m.is_dir]))
            for member, tinfo in members_t:
                if member.name not in wanted:
                    continue
                target = dest / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                tsrc = tf.extractfile(tinfo)
                if tsrc is None:
                    continue
                with tsrc, open(target, "xb") as dst:
                    budget -= _copy_limited(tsrc, dst, min(budget, member.size), name, member.name)
                extracted.append(member.name)
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, FileExistsError):
            raise UnsafeArchiveError(name, f"the archive holds the same name twice ({exc.filename})") from exc
        raise CorruptMediaError(name, f"damaged tar archive ({exc})") from exc
    return extracted
