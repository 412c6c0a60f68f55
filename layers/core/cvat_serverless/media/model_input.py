"""A frame as a detector's input: the original file's bytes when the model can take them (JPEG
or PNG, under the request budget), else a JPEG (quality 95) at full size, else a smaller JPEG.
Pillow only, loaded with the media layer (the auto-annotate function)."""

from __future__ import annotations

import io

from PIL import Image

from .decode import to_jpeg_mode
from .errors import CorruptMediaError

JPEG_QUALITY = 95
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
MIN_SIDE = 32


def model_image(data: bytes, name: str, budget: int, *, allow_downscale: bool = True) -> tuple[bytes, float]:
    """``(bytes, scale)``: the encoded image and its size over the frame's (1.0: full size; the
    detections of a downscaled image are divided by ``scale``). ``budget``: the most raw bytes
    one image may take. ``allow_downscale=False`` (mask models: masks cannot be rescaled
    exactly) answers a full-size JPEG even over the budget, and the caller fails cleanly."""
    if data.startswith(_MAGIC) and len(data) <= budget:
        return data, 1.0
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            image = to_jpeg_mode(opened)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise CorruptMediaError(name, f"cannot be decoded for the model ({exc})") from exc
    encoded, full_width = _jpeg(image), image.width
    while len(encoded) > budget and allow_downscale:
        factor = max(0.25, min(0.9, (budget / len(encoded)) ** 0.5 * 0.95))
        width, height = max(1, round(image.width * factor)), max(1, round(image.height * factor))
        if min(width, height) < MIN_SIDE:
            break
        image = image.resize((width, height), Image.Resampling.BILINEAR)
        encoded = _jpeg(image)
    return encoded, image.width / full_width


def _jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()
