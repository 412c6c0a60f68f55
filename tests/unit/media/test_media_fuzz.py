"""Seeded mutation fuzz of the media engine: small valid images (JPEG, PNG, BMP, TIFF, WebP,
GIF), videos (H.264 MP4 and MKV, MPEG-4 AVI) and archives (zip, tar) with bytes flipped, cut,
deleted or inserted, taken through the whole path a task's media takes: extract (archives),
manifest, both chunk kinds, preview. Every case either works or raises a MediaError (the API's
400 and the state machine's Catch), and finishes within seconds.

The same generator, run for 5,500 cases, found the non-UTF-8 video tags and the TIFF without
dimensions that test_media_video.py and test_media_bad.py pin; this runs the same 660 cases on
every test run."""

from __future__ import annotations

import io
import random
import tarfile
import zipfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from cvat_serverless.domain.errors import MediaError
from cvat_serverless.media.archive import extract_images
from cvat_serverless.media.chunks import ChunkKind, make_preview, write_chunks
from cvat_serverless.media.frames import plan_chunks
from cvat_serverless.media.manifest import Manifest, build_image_manifest, build_video_manifest

CASES_PER_SEED = 60


def _image(fmt: str) -> bytes:
    pixels = np.random.default_rng(1).integers(0, 255, (40, 50, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format=fmt)
    return buf.getvalue()


def _video(path: Path, codec: str) -> bytes:
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=25)
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.gop_size = 8
        for i in range(24):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 10, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path.read_bytes()


def _archives(jpeg: bytes, png: bytes) -> dict[str, bytes]:
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("x/1.jpg", jpeg)
        z.writestr("x/2.png", png)
    tarred = io.BytesIO()
    with tarfile.open(fileobj=tarred, mode="w") as t:
        for name, data in (("1.jpg", jpeg), ("2.png", png)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return {"arch.zip": zipped.getvalue(), "arch.tar": tarred.getvalue()}


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("seeds")
    out = {f"a.{ext}": _image(fmt) for ext, fmt in [("jpg", "JPEG"), ("png", "PNG"), ("bmp", "BMP")]}
    out |= {f"a.{ext}": _image(fmt) for ext, fmt in [("tif", "TIFF"), ("webp", "WEBP"), ("gif", "GIF")]}
    out |= {
        f"v.{ext}": _video(folder / f"seed.{ext}", codec) for ext, codec in [("mp4", "libx264"), ("mkv", "libx264")]
    }
    out["v.avi"] = _video(folder / "seed.avi", "mpeg4")
    return out | _archives(out["a.jpg"], out["a.png"])


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 4, 16])):
        op = rng.random()
        if op < 0.5 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op < 0.7:
            del b[rng.randrange(len(b) + 1) :]
        elif op < 0.85 and b:
            i = rng.randrange(len(b))
            del b[i : i + rng.randrange(1, 64)]
        else:
            i = rng.randrange(len(b) + 1)
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 32)))
    return bytes(b)


def task_path(folder: Path, name: str) -> None:
    """What task-data processing does with one uploaded file."""
    path = folder / name
    manifest: Manifest
    if name.startswith("arch"):
        names = extract_images(path, folder / "out")
        manifest, source = build_image_manifest(folder / "out", names), folder / "out"
    elif name.startswith("v."):
        manifest, source = build_video_manifest(path), path
    else:
        manifest, source = build_image_manifest(folder, [name]), folder
    chunks = plan_chunks(manifest.size, 8)

    def dest(chunk: object, kind: ChunkKind) -> Path:
        return folder / f"{kind.value}_{getattr(chunk, 'number', 0)}.bin"

    write_chunks(manifest, chunks, source, dest, kinds=[ChunkKind.COMPRESSED, ChunkKind.ORIGINAL])
    make_preview(manifest, 0, source)


@pytest.mark.slow  # 660 damaged-media cases on purpose; test_media_bad.py pins what they found
@pytest.mark.filterwarnings("ignore")  # Pillow warns about each damaged TIFF/EXIF tag it skips
@pytest.mark.parametrize(
    "seed_name",
    ["a.jpg", "a.png", "a.bmp", "a.tif", "a.webp", "a.gif", "v.mp4", "v.mkv", "v.avi", "arch.zip", "arch.tar"],
)
def test_damaged_media_works_or_raises_a_media_error(
    seeds: dict[str, bytes], tmp_path: Path, seed_name: str, deadline: Callable[[int], AbstractContextManager[None]]
) -> None:
    rng = random.Random(seed_name)
    refused = 0
    for case in range(CASES_PER_SEED):
        folder = tmp_path / str(case)
        folder.mkdir()
        (folder / seed_name).write_bytes(mutate(seeds[seed_name], rng))
        try:
            with deadline(20):
                task_path(folder, seed_name)
        except MediaError as exc:
            named = (seed_name, "1.jpg", "2.png") if seed_name.startswith("arch") else (seed_name,)
            assert any(n in str(exc) for n in named), f"case {case}: '{exc}' names no file"
            refused += 1
        except Exception as exc:  # the finding: report the case so it can be replayed
            raise AssertionError(f"case {case} of {seed_name}: {type(exc).__name__}: {exc}") from exc
    assert refused > 0  # the damage is real: some files must be refused
