"""The one set of archive checks: names, links, and the documented limits."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from cvat_serverless.domain.archives import (
    DEFAULT_LIMITS,
    ArchiveLimits,
    ArchiveMember,
    check_expansion,
    copy_member,
    safe_member_name,
    tar_members,
    zip_members,
)
from cvat_serverless.domain.errors import ArchiveBombError, UnsafeArchiveError, ValidationError

MiB = 1024**2


def test_the_documented_limits() -> None:
    documented = ArchiveLimits(max_total_bytes=8 * 1024**3, max_members=200_000, max_ratio=200, ratio_floor_bytes=MiB)
    assert documented == DEFAULT_LIMITS
    assert issubclass(ArchiveBombError, UnsafeArchiveError) and issubclass(UnsafeArchiveError, ValidationError)


@pytest.mark.parametrize(
    ("raw", "name"),
    [("a.jpg", "a.jpg"), ("./dir//b.jpg", "dir/b.jpg"), ("dir\\c.jpg", "dir/c.jpg"), ("./", ""), ("a..b/c", "a..b/c")],
)
def test_safe_names_are_normalised(raw: str, name: str) -> None:
    assert safe_member_name(raw, "x.zip") == name


@pytest.mark.parametrize(
    "raw", ["", "/etc/passwd", "\\evil", "C:evil", "c:/evil", "a/../../b", "..", "..\\b", "a\x00b"]
)
def test_unsafe_names_are_refused(raw: str) -> None:
    with pytest.raises(UnsafeArchiveError, match=r"^x\.zip: unsafe path"):
        safe_member_name(raw, "x.zip")


def test_zip_symlinks_are_refused_and_folders_kept_apart() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("./", b"")
        z.writestr("dir/", b"")
        z.writestr("dir/a.txt", b"abc")
    with zipfile.ZipFile(buf) as z:
        assert [m for m, _ in zip_members(z, "x.zip")] == [
            ArchiveMember("dir", 0, True, 0),
            ArchiveMember("dir/a.txt", 3, False, 3),
        ]
    with zipfile.ZipFile(buf, "a") as z:
        link = zipfile.ZipInfo("link")
        link.external_attr = (0o120777 << 16)
        z.writestr(link, "/etc/passwd")
    with zipfile.ZipFile(buf) as z, pytest.raises(UnsafeArchiveError, match=r"'link' is a symbolic link"):
        zip_members(z, "x.zip")


@pytest.mark.parametrize(("kind", "message"), [(tarfile.LNKTYPE, "is a link"), (tarfile.CHRTYPE, "device")])
def test_tar_links_and_devices_are_refused(kind: bytes, message: str) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("odd")
        info.type = kind
        info.linkname = "a"
        t.addfile(info)
    buf.seek(0)
    with tarfile.open(fileobj=buf) as t, pytest.raises(UnsafeArchiveError, match=message):
        tar_members(t, "x.tar")


def _member(size: int, compressed: int | None = None, name: str = "m") -> ArchiveMember:
    return ArchiveMember(name, size, False, compressed)


def test_member_count_and_total_size() -> None:
    limits = ArchiveLimits(max_members=2, max_total_bytes=100)
    check_expansion([_member(50), _member(50)], "x.zip", compressed=100, limits=limits)
    with pytest.raises(ArchiveBombError, match=r"x\.zip: 3 members exceed the limit of 2"):
        check_expansion([_member(1)] * 3, "x.zip", compressed=3, limits=limits)
    with pytest.raises(ArchiveBombError, match=r"x\.zip: expands to 101 bytes, over the limit of 100"):
        check_expansion([_member(50), _member(51)], "x.zip", compressed=101, limits=limits)


def test_ratio_of_a_member_and_of_the_whole_archive_over_the_floor() -> None:
    # a member: zip declares its compressed size
    with pytest.raises(ArchiveBombError, match=r"x\.zip: 'm' expands 1000 times .*ratio limit of 200: .*zip bomb"):
        check_expansion([_member(4 * MiB, 4 * MiB // 1000)], "x.zip")
    # the whole archive: many small members (each under the floor), or a tar's one stream
    many = [_member(MiB // 2, None, f"m{i}") for i in range(400)]
    with pytest.raises(ArchiveBombError, match=r"x\.tar\.gz: the archive expands 1000 times"):
        check_expansion(many, "x.tar.gz", compressed=200 * MiB // 1000)
    # at the ratio, or under the floor, is fine: small files of zeros prove nothing
    check_expansion([_member(4 * MiB, 4 * MiB // 200 + 1)], "x.zip")
    check_expansion([_member(MiB, 1)], "x.zip")


def test_copy_member_stops_at_the_budget() -> None:
    out = io.BytesIO()
    assert copy_member(io.BytesIO(b"x" * 10), out, 10, "x.zip", "m") == 10
    with pytest.raises(ArchiveBombError, match=r"x\.zip: member 'm' expands beyond the size limit"):
        copy_member(io.BytesIO(b"x" * 11), io.BytesIO(), 10, "x.zip", "m")
