"""Images: probe, EXIF orientation, animated/multi-page, manifest, compressed and original chunks."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cvat_serverless.media.chunks import ChunkKind, ChunkSettings, task_preview, write_chunk, write_chunks
from cvat_serverless.media.frames import plan_chunks
from cvat_serverless.media.manifest import Manifest, build_image_manifest
from cvat_serverless.media.probe import probe_image

Reader = Callable[[Image.Image], int]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_probed_and_frames_are_served_upright(
    tmp_path: Path, orientation: int, number_reader: Reader, image_saver
) -> None:
    path = image_saver(tmp_path / "o.jpg", 77, orientation=orientation)
    p = probe_image(path)
    assert p.orientation == orientation
    assert (p.width, p.height) == (64, 48)  # upright size, whatever is stored
    m = build_image_manifest(tmp_path, ["o.jpg"])
    buf = io.BytesIO()
    write_chunk(m, plan_chunks(1, 1)[0], tmp_path, buf)
    with zipfile.ZipFile(buf) as z:
        img = Image.open(io.BytesIO(z.read("000000.jpeg")))
    assert img.size == (64, 48)
    assert number_reader(img) == 77
    pixel = img.convert("RGB").getpixel((60, 44))
    assert isinstance(pixel, tuple)
    r, g, _ = pixel
    assert r > 180 and g < 90  # the corner marker is back in the bottom-right


@pytest.mark.parametrize(
    ("fmt", "ext"), [("PNG", "png"), ("BMP", "bmp"), ("TIFF", "tif"), ("WEBP", "webp"), ("GIF", "gif")]
)
def test_formats(tmp_path: Path, fmt: str, ext: str, number_reader: Reader, image_saver) -> None:
    image_saver(tmp_path / f"a.{ext}", 5, fmt=fmt)
    p = probe_image(tmp_path / f"a.{ext}")
    assert p.format == fmt and (p.width, p.height) == (64, 48)
    m = build_image_manifest(tmp_path, [f"a.{ext}"])
    buf = io.BytesIO()
    write_chunk(m, plan_chunks(1, 1)[0], tmp_path, buf)
    with zipfile.ZipFile(buf) as z:
        assert number_reader(Image.open(io.BytesIO(z.read("000000.jpeg")))) == 5


def test_animated_gif_uses_first_frame(tmp_path: Path, number_reader: Reader, frame_drawer) -> None:
    frames = [Image.fromarray(frame_drawer(n)) for n in (3, 9, 12)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=40)
    p = probe_image(tmp_path / "anim.gif")
    assert p.animated and p.frames == 3
    m = build_image_manifest(tmp_path, ["anim.gif"])
    buf = io.BytesIO()
    write_chunk(m, plan_chunks(1, 1)[0], tmp_path, buf)
    with zipfile.ZipFile(buf) as z:
        assert number_reader(Image.open(io.BytesIO(z.read("000000.jpeg")))) == 3


def test_multipage_tiff_uses_first_page(tmp_path: Path, frame_drawer) -> None:
    pages = [Image.fromarray(frame_drawer(n)) for n in (1, 2)]
    pages[0].save(tmp_path / "pages.tiff", save_all=True, append_images=pages[1:])
    assert probe_image(tmp_path / "pages.tiff").frames == 2


def test_sixteen_bit_greyscale_is_stretched(tmp_path: Path) -> None:
    arr = (np.arange(64 * 48, dtype=np.uint16).reshape(48, 64) * 7 + 1000).astype(np.uint16)
    Image.fromarray(arr).save(tmp_path / "depth.png")
    m = build_image_manifest(tmp_path, ["depth.png"])
    buf = io.BytesIO()
    write_chunk(m, plan_chunks(1, 1)[0], tmp_path, buf)
    with zipfile.ZipFile(buf) as z:
        img = Image.open(io.BytesIO(z.read("000000.jpeg")))
    assert img.mode == "L"
    values = np.asarray(img)
    assert values.min() < 10 and values.max() > 245


def test_manifest_sorting_and_selection(image_dir, number_reader: Reader) -> None:
    root, names = image_dir(12, prefix="f")  # f0..f11
    m = build_image_manifest(root, names, sorting_method="natural", start_frame=1, stop_frame=10, step=3)
    assert [f.name for f in m.frames] == ["f1.jpg", "f4.jpg", "f7.jpg", "f10.jpg"]
    lex = build_image_manifest(root, names, sorting_method="lexicographical")
    assert [f.name for f in lex.frames][:4] == ["f0.jpg", "f1.jpg", "f10.jpg", "f11.jpg"]
    assert Manifest.from_jsonl(m.to_jsonl()) == m
    rnd = build_image_manifest(root, names, sorting_method="random", seed=3)
    assert rnd.to_jsonl() == build_image_manifest(root, names, sorting_method="random", seed=3).to_jsonl()


def test_image_chunks_hold_the_right_images(image_dir, number_reader: Reader) -> None:
    root, names = image_dir(11, prefix="f")
    m = build_image_manifest(root, names, sorting_method="natural")
    chunks = plan_chunks(m.size, 4)
    out: dict[tuple[int, ChunkKind], io.BytesIO] = {}
    write_chunks(m, chunks, root, lambda c, k: out.setdefault((c.number, k), io.BytesIO()))
    for c in chunks:
        with zipfile.ZipFile(out[(c.number, ChunkKind.COMPRESSED)]) as z:
            assert [number_reader(Image.open(io.BytesIO(z.read(n)))) for n in z.namelist()] == list(c.frames)
        with zipfile.ZipFile(out[(c.number, ChunkKind.ORIGINAL)]) as z:
            assert z.namelist() == [f"{i:06d}.jpg" for i in range(c.size)]
            # originals are the file bytes, not re-encoded
            assert [z.read(n) for n in z.namelist()] == [(root / f"f{i}.jpg").read_bytes() for i in c.frames]


def test_rotated_original_is_reencoded_upright(tmp_path: Path, number_reader: Reader, image_saver) -> None:
    image_saver(tmp_path / "r.jpg", 42, orientation=6)
    m = build_image_manifest(tmp_path, ["r.jpg"])
    buf = io.BytesIO()
    write_chunk(m, plan_chunks(1, 1)[0], tmp_path, buf, kind="original")
    with zipfile.ZipFile(buf) as z:
        img = Image.open(io.BytesIO(z.read("000000.jpg")))
    assert img.format == "JPEG" and img.size == (64, 48)
    assert number_reader(img) == 42


def test_image_chunks_are_deterministic_and_written_atomically(image_dir, tmp_path: Path) -> None:
    root, names = image_dir(5)
    m = build_image_manifest(root, names)
    chunk = plan_chunks(m.size, 5)[0]
    a, b = tmp_path / "out" / "a.zip", tmp_path / "out" / "b.zip"
    write_chunk(m, chunk, root, a, settings=ChunkSettings(optimize=True))
    write_chunk(m, chunk, root, b, settings=ChunkSettings(optimize=True))
    assert a.read_bytes() == b.read_bytes()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.zip", "b.zip"]


def test_image_preview_uses_draft_and_fits_box(tmp_path: Path, image_saver) -> None:
    image_saver(tmp_path / "big.jpg", 9, size=(1280, 960))
    m = build_image_manifest(tmp_path, ["big.jpg"])
    img = Image.open(io.BytesIO(task_preview(m, tmp_path)))
    assert img.size == (256, 192)


def test_original_chunks_written_to_paths_equal_those_written_to_file_objects(image_dir, tmp_path: Path) -> None:
    root, names = image_dir(7)
    m = build_image_manifest(root, names)
    chunks = plan_chunks(m.size, 3)
    out = tmp_path / "out"
    memory: dict[int, io.BytesIO] = {}
    results = write_chunks(m, chunks, root, lambda c, k: out / f"{c.number}.zip", kinds=["original"])
    write_chunks(m, chunks, root, lambda c, k: memory.setdefault(c.number, io.BytesIO()), kinds=["original"])
    assert sorted(p.name for p in out.iterdir()) == ["0.zip", "1.zip", "2.zip"]
    for r in results:
        data = (out / f"{r.chunk.number}.zip").read_bytes()
        assert data == memory[r.chunk.number].getvalue() and r.size_bytes == len(data)
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
            assert [z.read(n) for n in z.namelist()] == [(root / names[f]).read_bytes() for f in r.chunk.frames]
