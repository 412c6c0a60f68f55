"""Safe extraction of zip and tar archives of images.

Every member name is checked before anything is written (absolute paths, ``..``, drive letters,
links and devices are refused: zip slip), the declared sizes are checked against the limits
(zip bombs), and the bytes actually written are counted again while extracting. On any error the
destination folder is removed, so no partial output is left behind. The checks and the limits are
the ones every engine uses: :mod:`cvat_serverless.domain.archives`.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import zipfile
from pathlib import Path

from cvat_serverless.domain.archives import (
    DEFAULT_LIMITS,
    ArchiveLimits,
    check_expansion,
    copy_member,
    tar_members,
    zip_members,
)
from cvat_serverless.domain.errors import UnsafeArchiveError

from .errors import CorruptMediaError, EmptyMediaError, UnsupportedMediaError
from .probe import image_names, is_ignored


def extract_images(
    archive_path: str | os.PathLike[str],
    dest_dir: str | os.PathLike[str],
    *,
    name: str | None = None,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> list[str]:
    """Extract the images of a zip or tar archive into ``dest_dir`` (created; must not exist).

    Returns the image names, relative to ``dest_dir``, in archive order. Other files are skipped,
    as CVAT does. Raises UnsafeArchiveError (ArchiveBombError) / CorruptMediaError; on error,
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
                members = zip_members(zf, name)
                check_expansion([m for m, _ in members], name, compressed=compressed, limits=limits)
                wanted = set(image_names([m.name for m, _ in members if not m.is_dir]))
                for member, info in members:
                    if member.name not in wanted or is_ignored(member.name):
                        continue
                    target = dest / member.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(target, "xb") as dst:
                        budget -= copy_member(src, dst, min(budget, member.size), name, member.name)
                    extracted.append(member.name)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
            raise CorruptMediaError(name, f"damaged zip archive ({exc})") from exc
        except FileExistsError as exc:
            raise UnsafeArchiveError(f"{name}: the archive holds the same name twice ({exc.filename})") from exc
        except OSError as exc:
            raise CorruptMediaError(name, f"cannot extract the zip archive ({exc})") from exc
        return extracted
    if not tarfile.is_tarfile(archive_path):
        raise UnsupportedMediaError(name, "not a zip or tar archive")
    try:
        with tarfile.open(archive_path, mode="r:*") as tf:
            members_t = tar_members(tf, name)
            check_expansion([m for m, _ in members_t], name, compressed=compressed, limits=limits)
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
                    budget -= copy_member(tsrc, dst, min(budget, member.size), name, member.name)
                extracted.append(member.name)
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, FileExistsError):
            raise UnsafeArchiveError(f"{name}: the archive holds the same name twice ({exc.filename})") from exc
        raise CorruptMediaError(name, f"damaged tar archive ({exc})") from exc
    return extracted
