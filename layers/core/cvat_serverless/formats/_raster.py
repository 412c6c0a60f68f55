"""Rasterising shapes and reading/writing indexed PNG masks (PASCAL VOC, Segmentation mask).

numpy and Pillow (the ``media`` extra) are imported inside the functions, so that listing the
formats never loads them (see the package docstring).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cvat_serverless.domain.annotations import FrameInfo, LabeledShape, ShapeType
from cvat_serverless.domain.errors import FormatError

from .common import cvat_mask_to_bitmap

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "Rgb",
    "png_bytes",
    "rasterize",
    "read_png",
    "rotated_box",
    "voc_colormap",
]

Rgb = tuple[int, int, int]


def voc_colormap(size: int = 256) -> list[Rgb]:
    """PASCAL VOC's palette: index bits spread over the high bits of r, g and b."""
    out: list[Rgb] = []
    for index in range(size):
        r = g = b = 0
        c = index
        for shift in range(7, -1, -1):
            r |= (c & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        out.append((r, g, b))
    return out


def rotated_box(points: Sequence[float], rotation: float) -> list[float]:
    """Corners of a rectangle turned ``rotation`` degrees (clockwise on screen) about its centre."""
    x0, y0, x1, y1 = points
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    a = math.radians(rotation)
    cos, sin = math.cos(a), math.sin(a)
    out: list[float] = []
    for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1)):
        dx, dy = x - cx, y - cy
        out.extend((cx + dx * cos - dy * sin, cy + dx * sin + dy * cos))
    return out


def rasterize(shape: LabeledShape, width: int, height: int) -> npt.NDArray[np.bool_] | None:
    """A full-frame bitmap of a polygon, mask or (axis-aligned) rectangle; ``None`` otherwise."""
    import numpy as np
    from PIL import Image, ImageDraw

    if shape.type == ShapeType.MASK:
        return cvat_mask_to_bitmap(shape.points, width, height)
    if shape.type == ShapeType.POLYGON:
        pts = shape.points
    elif shape.type == ShapeType.RECTANGLE:
        pts = rotated_box(shape.points, shape.rotation)
    else:
        return None
    canvas = Image.new("1", (width, height), 0)
    ImageDraw.Draw(canvas).polygon([(pts[i], pts[i + 1]) for i in range(0, len(pts), 2)], fill=1, outline=1)
    return np.asarray(canvas, dtype=bool)


def png_bytes(indices: npt.NDArray[Any], palette: Sequence[Rgb]) -> bytes:
    """An 8-bit palette PNG (``P`` mode) of ``indices`` with ``palette`` colours."""
    import numpy as np
    from PIL import Image

    image = Image.fromarray(np.asarray(indices, dtype=np.uint8), mode="P")
    flat: list[int] = []
    for color in list(palette)[:256]:
        flat.extend(color)
    flat.extend([0] * (768 - len(flat)))
    image.putpalette(flat)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def open_mask_image(data: bytes, file: str, frame: FrameInfo | None = None) -> Any:
    """A mask image, decoded; anything Pillow cannot read is a FormatError naming the file.

    With ``frame``, the size the PNG declares must be the frame's, checked from its header
    before decoding: a few kilobytes of PNG can declare gigapixels."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        if frame is not None and tuple(image.size) != (frame.width, frame.height):
            width, height = image.size
            raise FormatError(f"{file}: mask size {width}x{height} is not the frame's {frame.width}x{frame.height}")
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        # SyntaxError: Pillow's word for a broken PNG chunk
        raise FormatError(f"{file}: not a readable PNG mask ({exc})") from exc
    return image


def read_png(
    data: bytes, file: str, colors: Sequence[Rgb] | None = None, frame: FrameInfo | None = None
) -> npt.NDArray[np.int64]:
    """Class / instance indices of a PNG mask.

    Palette PNGs give their indices directly. Other images are mapped colour -> index through
    ``colors`` (an unknown colour is an error); with no ``colors`` a grey image is read as indices.
    """
    import numpy as np

    image = open_mask_image(data, file, frame)
    if image.mode == "P":
        return np.asarray(image, dtype=np.int64)
    if image.mode in ("L", "I", "I;16") and colors is None:
        return np.asarray(image, dtype=np.int64)
    if colors is None:
        raise FormatError(f"{file}: a colour mask needs a label map to be read")
    rgb = np.asarray(image.convert("RGB"), dtype=np.int64)
    codes = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    out = np.full(codes.shape, -1, dtype=np.int64)
    for index, (r, g, b) in enumerate(colors):
        out[codes == ((r << 16) | (g << 8) | b)] = index
    if (out < 0).any():
        ys, xs = np.nonzero(out < 0)
        y, x = int(ys[0]), int(xs[0])
        raise FormatError(
            f"{file}: pixel ({x}, {y}) has colour {tuple(int(v) for v in rgb[y, x])}, not in the label map"
        )
    return out
