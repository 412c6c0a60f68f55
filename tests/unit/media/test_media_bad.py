"""Bad media: each case ends in a clear error type whose message names the file, and nothing
partial is left behind."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from cvat_serverless.domain.archives import ArchiveLimits
from cvat_serverless.domain.errors import ArchiveBombError, MediaError, UnsafeArchiveError, ValidationError
from cvat_serverless.media.archive import extract_images
from cvat_serverless.media.chunks import write_chunk, write_chunks
from cvat_serverless.media.errors import (
    CorruptMediaError,
    DecompressionBombError,
    EmptyMediaError,
    MixedMediaError,
    NoVideoStreamError,
    UnsupportedMediaError,
)
from cvat_serverless.media.frames import plan_chunks
from cvat_serverless.media.manifest import build_image_manifest, build_video_manifest
from cvat_serverless.media.probe import classify_task_media, media_kind, probe, probe_image, probe_video


def test_all_errors_are_media_errors() -> None:
    for cls in (
        CorruptMediaError,
        DecompressionBombError,
        EmptyMediaError,
        MixedMediaError,
        NoVideoStreamError,
        UnsupportedMediaError,
    ):
        assert issubclass(cls, MediaError)
    # An unsafe archive is the domain's error, the same one a dataset import raises: still a 400.
    assert issubclass(ArchiveBombError, UnsafeArchiveError)
    assert issubclass(UnsafeArchiveError, ValidationError)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_image_is_caught_at_probe(tmp_path: Path, image_saver, fmt: str) -> None:
    path = image_saver(tmp_path / f"cut.{fmt.lower()}", 3, fmt=fmt, size=(320, 240))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(CorruptMediaError, match=rf"cut\.{fmt.lower()}.*truncated"):
        probe_image(path)


def test_truncated_image_is_caught_when_decoding_too(tmp_path: Path, image_saver) -> None:
    # Even if the probe were skipped (e.g. a manifest built earlier), decoding refuses the file.
    path = image_saver(tmp_path / "a.jpg", 3, size=(320, 240))
    m = build_image_manifest(tmp_path, ["a.jpg"])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptMediaError, match=r"a\.jpg"):
        write_chunk(m, plan_chunks(1, 1)[0], tmp_path, io.BytesIO())


def test_corrupt_headers(tmp_path: Path, image_saver) -> None:
    path = image_saver(tmp_path / "bad.jpg", 1)
    data = bytearray(path.read_bytes())
    data[:16] = b"\x00" * 16
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptMediaError, match=r"bad\.jpg"):
        probe_image(path)
    (tmp_path / "text.png").write_text("this is not a picture")
    with pytest.raises(CorruptMediaError, match=r"text\.png"):
        probe_image(tmp_path / "text.png")


def test_corrupt_png_data_fails_the_chunk_and_leaves_no_file(tmp_path: Path, image_saver) -> None:
    for i in range(3):
        image_saver(tmp_path / f"p{i}.png", i, fmt="PNG", size=(320, 240))
    m = build_image_manifest(tmp_path, ["p0.png", "p1.png", "p2.png"])
    raw = bytearray((tmp_path / "p1.png").read_bytes())
    idat = raw.index(b"IDAT")
    raw[idat + 20 : idat + 60] = os.urandom(40)
    (tmp_path / "p1.png").write_bytes(bytes(raw))
    out = tmp_path / "out"
    with pytest.raises(CorruptMediaError, match=r"p1\.png"):
        write_chunk(m, plan_chunks(3, 3)[0], tmp_path, out / "0.zip")
    assert not out.exists() or list(out.iterdir()) == []


def test_zero_length_files(tmp_path: Path) -> None:
    for name in ("empty.jpg", "empty.mp4", "empty.zip"):
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(EmptyMediaError, match=r"empty\.jpg.*0 bytes"):
        probe(tmp_path / "empty.jpg")
    with pytest.raises(EmptyMediaError, match=r"empty\.mp4"):
        probe(tmp_path / "empty.mp4")
    with pytest.raises(EmptyMediaError, match=r"empty\.zip"):
        extract_images(tmp_path / "empty.zip", tmp_path / "x")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("name", ["doc.pdf", "notes.txt", "drawing.svg", "noext"])
def test_unsupported_formats(name: str) -> None:
    with pytest.raises(UnsupportedMediaError, match=name):
        media_kind(name)


def test_decompression_bomb_image(tmp_path: Path) -> None:
    Image.new("L", (2000, 2000)).save(tmp_path / "huge.png")  # a few kB on disk, 4 Mpx decoded
    with pytest.raises(DecompressionBombError, match=r"huge\.png.*4000000"):
        probe_image(tmp_path / "huge.png", max_pixels=1_000_000)
    assert probe_image(tmp_path / "huge.png", max_pixels=None).width == 2000
    # the limit also holds when Pillow's own (global) limit is lower than the caller's
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = 100_000
    try:
        assert probe_image(tmp_path / "huge.png", max_pixels=5_000_000).height == 2000
        assert Image.MAX_IMAGE_PIXELS == 100_000
    finally:
        Image.MAX_IMAGE_PIXELS = old


def test_decompression_bomb_video(make_video) -> None:
    path = make_video(frames=3, size=(320, 240))
    with pytest.raises(DecompressionBombError, match=r"clip\.mp4"):
        probe_video(path, max_pixels=320 * 240 - 1)


@pytest.mark.parametrize("faststart", [False, True])
def test_truncated_mp4(make_video, faststart: bool) -> None:
    path = make_video(frames=60, faststart=faststart)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(CorruptMediaError, match=r"clip\.mp4"):
        build_video_manifest(path)


def test_video_cut_after_manifest_fails_cleanly(make_video, tmp_path: Path) -> None:
    path = make_video(frames=60, gop=10, faststart=True)
    m = build_video_manifest(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    out = tmp_path / "chunks"
    with pytest.raises(CorruptMediaError, match=r"clip\.mp4"):
        write_chunks(m, plan_chunks(m.size, 60), path, lambda c, k: out / f"{k}_{c.number}")
    assert not out.exists() or list(out.iterdir()) == []


def test_garbage_with_video_extension(tmp_path: Path) -> None:
    (tmp_path / "fake.mp4").write_bytes(os.urandom(5000))
    with pytest.raises(CorruptMediaError, match=r"fake\.mp4"):
        probe_video(tmp_path / "fake.mp4")


def test_audio_only_file_has_no_video_stream(tmp_path: Path) -> None:
    path = tmp_path / "sound.mp4"
    with av.open(str(path), "w", format="mp4") as c:
        s = c.add_stream("aac", rate=44100)
        for i in range(5):
            f = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            f.sample_rate = 44100
            f.pts = i * 1024
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    with pytest.raises(NoVideoStreamError, match=r"sound\.mp4.*no video stream"):
        probe_video(path)


def test_mixed_media() -> None:
    assert classify_task_media(["a.jpg", "b.PNG", "__MACOSX/._a.jpg"]).value == "image"
    assert classify_task_media(["v.mp4"]).value == "video"
    with pytest.raises(MixedMediaError, match="image"):
        classify_task_media(["a.jpg", "v.mp4"])
    with pytest.raises(MixedMediaError):
        classify_task_media(["v.mp4", "w.mov"])
    with pytest.raises(MixedMediaError):
        classify_task_media(["a.zip", "b.jpg"])


# --- archives -----------------------------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_zip_of_images_extracts_only_images(tmp_path: Path, image_saver) -> None:
    img = image_saver(tmp_path / "x.jpg", 4).read_bytes()
    arc = _zip(tmp_path / "a.zip", {"dir/b.jpg": img, "a.jpg": img, "readme.txt": b"hi", "__MACOSX/._a.jpg": b"x"})
    names = extract_images(arc, tmp_path / "out")
    assert sorted(names) == ["a.jpg", "dir/b.jpg"]
    assert (tmp_path / "out" / "dir" / "b.jpg").read_bytes() == img
    assert not (tmp_path / "out" / "readme.txt").exists()


def test_tar_of_images(tmp_path: Path, image_saver) -> None:
    img = image_saver(tmp_path / "x.png", 4, fmt="PNG")
    with tarfile.open(tmp_path / "a.tar.gz", "w:gz") as t:
        t.add(img, arcname="imgs/x.png")
    assert extract_images(tmp_path / "a.tar.gz", tmp_path / "out") == ["imgs/x.png"]


@pytest.mark.parametrize("evil", ["../evil.jpg", "a/../../evil.jpg", "/etc/evil.jpg", "..\\evil.jpg", "C:/evil.jpg"])
def test_zip_slip_is_refused_and_nothing_is_written(tmp_path: Path, evil: str) -> None:
    arc = _zip(tmp_path / "slip.zip", {"ok.jpg": b"\xff\xd8", evil: b"\xff\xd8"})
    with pytest.raises(UnsafeArchiveError, match=r"slip\.zip"):
        extract_images(arc, tmp_path / "sub" / "out")
    assert not (tmp_path / "sub" / "out").exists()
    assert not (tmp_path / "evil.jpg").exists() and not (tmp_path / "sub" / "evil.jpg").exists()


def test_tar_links_are_refused(tmp_path: Path) -> None:
    arc = tmp_path / "links.tar"
    with tarfile.open(arc, "w") as t:
        info = tarfile.TarInfo("link.jpg")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        t.addfile(info)
    with pytest.raises(UnsafeArchiveError, match=r"links\.tar.*link"):
        extract_images(arc, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    arc = _zip(tmp_path / "bomb.zip", {f"z{i}.png": b"\0" * (4 << 20) for i in range(4)}, zipfile.ZIP_DEFLATED)
    assert arc.stat().st_size < 100_000
    limits = ArchiveLimits(max_ratio=50, ratio_floor_bytes=1 << 20)
    with pytest.raises(ArchiveBombError, match=r"bomb\.zip.*ratio"):
        extract_images(arc, tmp_path / "out", limits=limits)
    with pytest.raises(ArchiveBombError, match=r"bomb\.zip: expands to \d+ bytes, over the limit"):
        extract_images(arc, tmp_path / "out", limits=ArchiveLimits(max_total_bytes=8 << 20))
    with pytest.raises(ArchiveBombError, match="members"):
        extract_images(arc, tmp_path / "out", limits=ArchiveLimits(max_members=3))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("members", "error", "message"),
    [
        ({"z.png": b"\0" * (4 << 20)}, ArchiveBombError, r"'z\.png' expands \d+ times"),
        ({"../z.png": b"\xff\xd8"}, UnsafeArchiveError, r"unsafe path '\.\./z\.png'"),
    ],
)
def test_task_media_and_dataset_imports_refuse_the_same_archive_alike(
    tmp_path: Path, members: dict[str, bytes], error: type[Exception], message: str
) -> None:
    # one rule set, one error class and message, whichever engine opens the upload
    from cvat_serverless.formats.archive import open_import

    arc = _zip(tmp_path / "up.zip", members, zipfile.ZIP_DEFLATED)
    with pytest.raises(error, match=r"^up\.zip: " + message) as media:
        extract_images(arc, tmp_path / "out")
    with pytest.raises(error, match=r"^up\.zip: " + message) as formats:
        open_import(io.BytesIO(arc.read_bytes()), "up.zip")
    assert str(media.value) == str(formats.value) and type(media.value) is type(formats.value)


def test_damaged_zip(tmp_path: Path, image_saver) -> None:
    img = image_saver(tmp_path / "x.jpg", 4).read_bytes()
    arc = _zip(tmp_path / "d.zip", {"a.jpg": img}, zipfile.ZIP_DEFLATED)
    data = bytearray(arc.read_bytes())
    data[60:120] = b"\x00" * 60  # inside the deflated data
    arc.write_bytes(bytes(data))
    with pytest.raises(CorruptMediaError, match=r"d\.zip"):
        extract_images(arc, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    (tmp_path / "n.tar").write_bytes(b"neither zip nor tar" * 100)
    with pytest.raises(UnsupportedMediaError, match=r"n\.tar"):
        extract_images(tmp_path / "n.tar", tmp_path / "out")


def test_tiff_page_directory_without_dimensions(tmp_path: Path) -> None:
    # Pillow raises TypeError ("Missing dimensions") while counting such a file's pages.
    pages = [Image.new("RGB", (8, 6), colour) for colour in ("red", "blue")]
    buf = io.BytesIO()
    pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:])
    data = bytearray(buf.getvalue())
    assert data[:2] == b"II"
    first = int.from_bytes(data[4:8], "little")
    count = int.from_bytes(data[first : first + 2], "little")
    second = int.from_bytes(data[first + 2 + 12 * count : first + 6 + 12 * count], "little")
    entries = range(second + 2, second + 2 + 12 * int.from_bytes(data[second : second + 2], "little"), 12)
    width_tags = [e for e in entries if int.from_bytes(data[e : e + 2], "little") == 256]
    assert len(width_tags) == 1
    data[width_tags[0] : width_tags[0] + 2] = (65000).to_bytes(2, "little")  # ImageWidth -> unknown tag
    (tmp_path / "pages.tif").write_bytes(bytes(data))
    with pytest.raises(CorruptMediaError, match=r"pages\.tif: cannot read the image's pages"):
        build_image_manifest(tmp_path, ["pages.tif"])
