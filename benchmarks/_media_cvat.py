"""Baselines measured in the same run as the engine.

``cvat_*``: a re-implementation of CVAT's static chunk path, written from reading CVAT's
``media_extractors.py`` and ``task.py`` (not copied). What it does, exactly:
- writers: ``ZipCompressedChunkWriter`` -> per frame ``to_image()`` (video) or ``Image.open`` +
  ``load`` (images), EXIF transpose and ``convert('RGB')`` when needed, JPEG ``quality=70,
  optimize=True`` into a BytesIO, then ``writestr('{:06d}.jpeg')`` into a stored zip opened with
  mode ``'x'`` at the chunk path;
- its reading: the static path iterates the media reader once in order (PyAV's default decoder
  threading, as CVAT leaves it); for a video that is one sequential decode from frame 0, so no
  seek cost is charged to CVAT (its lazy per-chunk path, which seeks to the keyframe before each
  chunk, can only be slower);
- its loop: segments serially, chunk after chunk, the compressed writer in the calling thread
  (CVAT's thread pool only runs the *original* writer beside it, which these compressed-only
  baselines leave out).

Every loop here keeps a frame's PIL image referenced until the next frame's image has been
made. Freeing a 6 MB 1080p image right before making the next one (``frame.to_image().save(...)``
in one expression, or CVAT's ``_compress_image`` returning) lets glibc unmap the buffer and map a
fresh one for every frame: the page faults doubled the cost of decode + JPEG here (14.4 s vs 7.1 s
for 500 frames; the same with ``MALLOC_MMAP_THRESHOLD_`` raised). That is an allocator effect,
not work, so the floor and the CVAT baseline are both given the fast pattern (the engine's loop
has it too: ``chunks.write_chunks``).

``floor_*``: the bare work the engine cannot avoid, with the engine's settings (single-threaded
decode, JPEG q70 without optimize): decode + encode in a loop, nothing else; and a plain zip of
the file bytes.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import av
from PIL import Image, ImageOps


def _cvat_compress(image: Image.Image, quality: int) -> io.BytesIO:
    if image.mode != "RGB" and image.mode != "L":
        image = image.convert("RGB")
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality, optimize=True)
    buf.seek(0)
    return buf


def cvat_video_compressed(path: Path, out_dir: Path, chunk_size: int = 36, quality: int = 70) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        batch: list[av.VideoFrame] = []
        chunk = 0

        def flush() -> None:
            nonlocal chunk
            with zipfile.ZipFile(out_dir / f"{chunk}.zip", "x") as z:
                for idx, frame in enumerate(batch):
                    image = frame.to_image()  # held until the next one exists: see the module docstring
                    z.writestr(f"{idx:06d}.jpeg", _cvat_compress(image, quality).getvalue())
            chunk += 1
            batch.clear()

        for frame in container.decode(stream):
            batch.append(frame)
            frames += 1
            if len(batch) == chunk_size:
                flush()
        if batch:
            flush()
    return frames


def cvat_images_compressed(root: Path, names: list[str], out_dir: Path, chunk_size: int = 36, quality: int = 70) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    for chunk, start in enumerate(range(0, len(names), chunk_size)):
        loaded = []
        for name in names[start : start + chunk_size]:
            with Image.open(root / name) as img:
                img.load()
                loaded.append(img)
        with zipfile.ZipFile(out_dir / f"{chunk}.zip", "x") as z:
            for idx, img in enumerate(loaded):
                upright = ImageOps.exif_transpose(img)
                z.writestr(f"{idx:06d}.jpeg", _cvat_compress(upright, quality).getvalue())
    return len(names)


def floor_video_decode_encode(path: Path, quality: int = 70) -> int:
    n = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        for frame in container.decode(stream):
            image = frame.to_image()  # held until the next one exists: see the module docstring
            image.save(io.BytesIO(), format="JPEG", quality=quality)
            n += 1
    return n


def floor_video_decode(path: Path) -> int:
    n = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        for _ in container.decode(stream):
            n += 1
    return n


def floor_images_decode_encode(root: Path, names: list[str], quality: int = 70) -> int:
    for name in names:
        with Image.open(root / name) as img:
            img.load()
            img.save(io.BytesIO(), format="JPEG", quality=quality)
    return len(names)


def floor_images_zip(root: Path, names: list[str], out_dir: Path, chunk_size: int = 36) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    for chunk, start in enumerate(range(0, len(names), chunk_size)):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            for idx, name in enumerate(names[start : start + chunk_size]):
                z.writestr(f"{idx:06d}.jpg", (root / name).read_bytes())
        (out_dir / f"{chunk}.zip").write_bytes(buf.getbuffer())
    return len(names)
