"""Real media made in the tests: PyAV-encoded clips that carry their frame number, Pillow images
with EXIF orientations, archives. Frames are small so the whole suite stays fast."""

from __future__ import annotations

import io
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import av.video.stream
import numpy as np
import pytest
from PIL import Image

W, H = 64, 48
BLOCK = 8
BITS = 12  # frame numbers up to 4095, as 12 black/white 8x8 blocks in two rows


def draw_number(n: int, width: int = W, height: int = H) -> np.ndarray:
    """An RGB frame whose top-left blocks spell ``n`` in binary; a corner marker shows orientation."""
    img = np.full((height, width, 3), 96, np.uint8)
    for bit in range(BITS):
        row, col = divmod(bit, 6)
        value = 255 if (n >> bit) & 1 else 0
        img[row * BLOCK : (row + 1) * BLOCK, col * BLOCK : (col + 1) * BLOCK] = value
    # Red marker in the bottom-right corner: upright frames keep it there.
    img[height - BLOCK :, width - BLOCK :] = (255, 0, 0)
    return img


def read_number(image: Image.Image) -> int:
    """Inverse of draw_number, robust to lossy coding."""
    arr = np.asarray(image.convert("L"), dtype=np.float32)
    n = 0
    for bit in range(BITS):
        row, col = divmod(bit, 6)
        block = arr[row * BLOCK + 2 : (row + 1) * BLOCK - 2, col * BLOCK + 2 : (col + 1) * BLOCK - 2]
        if block.mean() > 128:
            n |= 1 << bit
    return n


def encode_video(
    path: Path,
    frames: int = 40,
    *,
    codec: str = "libx264",
    gop: int = 10,
    bframes: int = 2,
    rotation: int = 0,
    faststart: bool = False,
    size: tuple[int, int] = (W, H),
    fps: int = 25,
) -> Path:
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream(codec, rate=fps)
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {
                "g": str(gop),
                "bf": str(bframes),
                "crf": "18",
                "preset": "ultrafast" if bframes == 0 else "veryfast",
            }
        else:
            stream.codec_context.gop_size = gop
            stream.codec_context.max_b_frames = bframes
            stream.codec_context.bit_rate = 2_000_000
        if rotation:
            stream.set_display_rotation(rotation)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(draw_number(i, *size), format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def save_image(
    path: Path,
    n: int,
    *,
    fmt: str = "JPEG",
    orientation: int = 1,
    size: tuple[int, int] = (W, H),
    mode: str = "RGB",
) -> Path:
    """An image showing ``n``; with an EXIF orientation the pixels are stored so that applying the
    orientation gives the upright picture back."""
    upright = Image.fromarray(draw_number(n, *size))
    stored = _inverse_orientation(upright, orientation)
    if mode != "RGB":
        stored = stored.convert(mode)
    kwargs: dict[str, object] = {}
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs["exif"] = exif.tobytes()
    if fmt == "JPEG":
        kwargs["quality"] = 95
    stored.save(path, format=fmt, **kwargs)
    return path


_INVERSE = {
    1: [],
    2: [Image.Transpose.FLIP_LEFT_RIGHT],
    3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_90],
    7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_270],
}


def _inverse_orientation(image: Image.Image, orientation: int) -> Image.Image:
    for op in _INVERSE[orientation]:
        image = image.transpose(op)
    return image


def jpeg_bytes(n: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(draw_number(n)).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


@pytest.fixture
def make_video(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str = "clip.mp4", frames: int = 40, **kwargs: object) -> Path:
        return encode_video(tmp_path / name, frames, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def image_dir(tmp_path: Path) -> Callable[..., tuple[Path, list[str]]]:
    def make(count: int = 10, *, fmt: str = "JPEG", ext: str = "jpg", prefix: str = "img") -> tuple[Path, list[str]]:
        root = tmp_path / "images"
        root.mkdir(exist_ok=True)
        names = []
        for i in range(count):
            name = f"{prefix}{i}.{ext}"
            save_image(root / name, i, fmt=fmt)
            names.append(name)
        return root, names

    return make


@pytest.fixture
def number_reader() -> Callable[[Image.Image], int]:
    return read_number


@pytest.fixture
def image_saver() -> Callable[..., Path]:
    return save_image


@pytest.fixture
def frame_drawer() -> Callable[..., np.ndarray]:
    return draw_number
