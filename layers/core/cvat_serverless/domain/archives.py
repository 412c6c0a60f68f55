"""Which uploaded archives are safe to open: one rule set for every engine that reads them.

The media engine unpacks task archives (zip, tar) into the function's ``/tmp``; the formats
engine reads dataset archives (zip) in place. Both refuse, before reading any member's bytes:

* path traversal ("zip slip"): absolute names, drive letters, NUL bytes, ``..`` components;
* links and devices: zip members stored with a symlink mode, tar symlinks, hard links, devices;
* zip bombs, from the sizes the archive declares (see :class:`ArchiveLimits`).

``zipfile`` never inflates a member past its declared size and ``tarfile`` never reads past it,
so the declared sizes bound the work; :func:`copy_member` counts the bytes again while writing.
Every error is an :class:`~cvat_serverless.domain.errors.UnsafeArchiveError` (a 400) whose
message starts with the archive's name. Standard library only.
"""

from __future__ import annotations

import posixpath
import stat
import tarfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from .errors import ArchiveBombError, UnsafeArchiveError

__all__ = [
    "DEFAULT_LIMITS",
    "ArchiveLimits",
    "ArchiveMember",
    "check_expansion",
    "copy_member",
    "safe_member_name",
    "tar_members",
    "zip_members",
]

_COPY_BLOCK = 1 << 20


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Bounds on what an uploaded archive may expand to; the same for task media and datasets.

    * ``max_total_bytes`` (8 GiB): the sum of the members' declared sizes. A task archive is
      unpacked into ``/tmp``, which Lambda caps at 10 GB; a dataset is read in place, but its
      importer still reads (at least) every annotation member.
    * ``max_members`` (200,000): each member costs a ``ZipInfo``/``TarInfo`` and an entry in our
      own lists while the archive is open, and a file in ``/tmp`` when it is unpacked: 200,000
      keeps that near 100 MB and well under the inodes of a 10 GB ``/tmp``. A task of more
      images, or a dataset of more files, is past what one function handles anyway.
    * ``max_ratio`` (200) over ``ratio_floor_bytes`` (1 MiB): images are compressed already and
      annotation text deflates 5-20x, so a member (or a whole archive) that declares more than
      200 times its compressed size is a bomb, not data. Below 1 MiB the ratio is not checked:
      a small file of zeros or of one repeated line proves nothing and costs nothing.
    """

    max_total_bytes: int = 8 * 1024**3
    max_members: int = 200_000
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 1024**2


DEFAULT_LIMITS = ArchiveLimits()


@dataclass(frozen=True, slots=True)
class ArchiveMember:
    """A member that passed the name and type checks."""

    name: str  # normalised: relative, '/'-separated, no '.' parts; "" for the archive's own folder
    size: int  # declared (uncompressed) size
    is_dir: bool
    compressed_size: int | None = None  # zip only: tar members share one compressed stream


def safe_member_name(raw: str, archive: str) -> str:
    """``raw`` normalised to a relative path that stays inside the destination, or an
    :class:`UnsafeArchiveError` (absolute path, drive letter, NUL byte, ``..`` component)."""
    name = raw.replace("\\", "/")
    if not raw or name.startswith("/") or (len(name) > 1 and name[1] == ":") or "\x00" in name:
        raise UnsafeArchiveError(f"{archive}: unsafe path {raw!r} in the archive (not a relative path)")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(f"{archive}: unsafe path {raw!r} in the archive (it points outside its folder)")
    return posixpath.join(*parts) if parts else ""


def zip_members(zf: zipfile.ZipFile, archive: str) -> list[tuple[ArchiveMember, zipfile.ZipInfo]]:
    """Every member of ``zf`` with a checked name (the archive's own folder, ``./``, left out);
    a member stored as a symbolic link is refused."""
    members = []
    for info in zf.infolist():
        name = safe_member_name(info.filename, archive)
        if stat.S_ISLNK(info.external_attr >> 16):  # the unix mode, where the archiver kept one
            raise UnsafeArchiveError(f"{archive}: member {info.filename!r} is a symbolic link")
        if name:
            members.append((ArchiveMember(name, info.file_size, info.is_dir(), info.compress_size), info))
    return members


def tar_members(tf: tarfile.TarFile, archive: str) -> list[tuple[ArchiveMember, tarfile.TarInfo]]:
    """Every member of ``tf`` with a checked name; links, devices and FIFOs are refused."""
    members = []
    for info in tf.getmembers():
        name = safe_member_name(info.name, archive)
        if info.issym() or info.islnk():
            raise UnsafeArchiveError(f"{archive}: member {info.name!r} is a link")
        if not (info.isfile() or info.isdir()):
            raise UnsafeArchiveError(f"{archive}: member {info.name!r} is a device or special file")
        if name:
            members.append((ArchiveMember(name, info.size, info.isdir()), info))
    return members


def check_expansion(
    members: Iterable[ArchiveMember],
    archive: str,
    *,
    compressed: int | None = None,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> None:
    """Refuse a zip bomb from the declared sizes: too many members, too many bytes, or a member
    or the whole archive expanding more than ``limits.max_ratio`` times. ``compressed`` is the
    archive's size (default: the sum of the members' compressed sizes, which a zip declares)."""
    members = list(members)
    if compressed is None:
        compressed = sum(m.compressed_size or 0 for m in members)
    if len(members) > limits.max_members:
        raise ArchiveBombError(
            f"{archive}: {len(members)} members exceed the limit of {limits.max_members}: refusing a possible zip bomb"
        )
    total = sum(m.size for m in members)
    if total > limits.max_total_bytes:
        raise ArchiveBombError(
            f"{archive}: expands to {total} bytes, over the limit of {limits.max_total_bytes}: "
            "refusing a possible zip bomb"
        )
    for member in members:
        if member.compressed_size is not None:
            _check_ratio(member.size, member.compressed_size, f"{archive}: {member.name!r}", limits)
    _check_ratio(total, compressed, f"{archive}: the archive", limits)


def _check_ratio(size: int, compressed: int, what: str, limits: ArchiveLimits) -> None:
    if size > limits.ratio_floor_bytes and size > limits.max_ratio * max(compressed, 1):
        raise ArchiveBombError(
            f"{what} expands {size / max(compressed, 1):.0f} times ({size} bytes), over the ratio limit of "
            f"{limits.max_ratio:g}: refusing a possible zip bomb"
        )


def copy_member(src: IO[bytes], dst: IO[bytes], budget: int, archive: str, member: str) -> int:
    """Copy one member's bytes, refusing to write more than ``budget``; returns the bytes written."""
    written = 0
    while block := src.read(_COPY_BLOCK):
        written += len(block)
        if written > budget:
            raise ArchiveBombError(f"{archive}: member {member!r} expands beyond the size limit")
        dst.write(block)
    return written
