"""Benchmark media, made here so that every run is reproducible: a 1080p H.264 High clip with a
keyframe every 250 frames (~7 Mbps) and a folder of 1080p JPEGs (~0.5 MB each). Both are cached
in the temp folder between runs, keyed by their parameters."""

from __future__ import annotations

import tempfile
from pathlib import Path

import av
import av.video.stream
import numpy as np
from PIL import Image, ImageDraw

W, H = 1920, 1080
CACHE = Path(tempfile.gettempdir()) / "cvat_serverless_bench_media_v1"


def _base(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W]
    grad = np.stack([x * 255 // W, y * 255 // H, (x + y) * 255 // (W + H)], -1).astype(np.float32)
    coarse = rng.normal(0, 1, (H // 8, W // 8, 3)).astype(np.float32)
    texture = Image.fromarray((coarse * 40 + 128).clip(0, 255).astype(np.uint8)).resize(
        (W, H), Image.Resampling.BICUBIC
    )
    img = grad * 0.5 + np.asarray(texture, dtype=np.float32) * 0.5 + rng.normal(0, 6, (H, W, 3))
    return img.clip(8, 247).astype(np.uint8)  # headroom for the per-frame noise below


class _Frames:
    def __init__(self) -> None:
        rng = np.random.default_rng(1)
        self.base = _base()
        self.noise = [rng.integers(0, 5, (H, W, 1), dtype=np.uint8) for _ in range(8)]

    def __call__(self, i: int) -> np.ndarray:
        a = np.roll(self.base, i * 4, axis=1)
        a += self.noise[i % 8]
        return a


def video(frames: int = 500, gop: int = 250) -> Path:
    path = CACHE / f"clip_{frames}f_g{gop}.mp4"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    make = _Frames()
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {
            "g": str(gop),
            "keyint_min": str(gop),
            "sc_threshold": "0",
            "preset": "superfast",
            "crf": "19",
        }
        for i in range(frames):
            image = Image.fromarray(make(i))
            ImageDraw.Draw(image).text((40, 40), f"frame {i}", fill=(255, 255, 255))
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    tmp.rename(path)
    return path


def images(count: int = 200) -> tuple[Path, list[str]]:
    root = CACHE / f"images_{count}"
    names = [f"img_{i:04d}.jpg" for i in range(count)]
    if (root / names[-1]).exists():
        return root, names
    root.mkdir(parents=True, exist_ok=True)
    make = _Frames()
    for i, name in enumerate(names):
        Image.fromarray(make(i * 7)).save(root / name, quality=92)
    return root, names
