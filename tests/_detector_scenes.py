"""Frames in which the offline detector (YOLOX-nano, COCO) finds objects: stop signs and wall
clocks drawn with Pillow on a street-like background, at positions and sizes that depend on the
frame's index. No photo of a COCO object is on the build machine to use, and these two COCO
classes are ones the model recognises from drawn shapes. Checked at threshold 0.5: frames 0-199 at
1920x1080, 1280x720 and 640x480 each give one detection or more and only these labels; at
1920x1080 every drawn object of frames 0-195 is found (IoU > 0.85 with scene_objects' box).
Deterministic: the same index gives the same bytes (Pillow's built-in font, no system font).

Importable from tests and benchmarks (Pillow only)."""

from __future__ import annotations

import io
import math
import random
from functools import cache

from PIL import Image, ImageDraw, ImageFont

EXPECTED_LABELS = frozenset({"stop sign", "clock"})
"""What the detector finds in these frames (at threshold 0.5: every frame has one or more)."""


def scene_jpeg(index: int, size: tuple[int, int] = (1920, 1080)) -> bytes:
    """Frame ``index`` as a JPEG: two or three objects (a stop sign and a clock at least) on a
    background whose colours vary with the index (scene_objects says where they are)."""
    width, height = size
    rng = random.Random(index)
    image = Image.new("RGB", size, _jitter(rng, (105, 140, 95)))
    draw = ImageDraw.Draw(image)
    horizon = int(height * rng.uniform(0.6, 0.75))
    draw.rectangle([0, horizon, width, height], fill=_jitter(rng, (90, 90, 96)))
    for lane in range(0, width, max(width // 8, 1)):  # road markings: some clutter that is not an object
        draw.rectangle([lane, horizon + (height - horizon) // 2, lane + width // 16,
                        horizon + (height - horizon) // 2 + max(height // 100, 2)], fill=(230, 230, 210))
    for label, cx, cy, radius in _layout(index, size):
        (_stop_sign if label == "stop sign" else _clock)(draw, cx, cy, radius)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


Box = tuple[float, float, float, float]


def scene_objects(index: int, size: tuple[int, int] = (1920, 1080)) -> list[tuple[str, Box]]:
    """The objects drawn in frame ``index``: (COCO label, (x1, y1, x2, y2)) each."""
    objects = []
    for label, cx, cy, radius in _layout(index, size):
        half = radius * math.cos(math.radians(22.5)) if label == "stop sign" else radius  # the octagon's flats
        objects.append((label, (cx - half, cy - half, cx + half, cy + half)))
    return objects


def _layout(index: int, size: tuple[int, int]) -> list[tuple[str, float, float, float]]:
    width, height = size
    rng = random.Random(f"layout-{index}")
    kinds = ["stop sign", "clock"]
    rng.shuffle(kinds)
    count = rng.randint(2, 3)
    column = width / count
    layout = []
    for slot in range(count):
        radius = min(height * rng.uniform(0.12, 0.2), column / 2.6)
        cx = column * slot + rng.uniform(radius * 1.2, column - radius * 1.2)
        cy = rng.uniform(radius * 1.2, height - radius * 1.2)
        layout.append((kinds[slot % 2], cx, cy, radius))
    return layout


def _jitter(rng: random.Random, colour: tuple[int, int, int]) -> tuple[int, int, int]:
    r, g, b = (max(0, min(255, c + rng.randint(-25, 25))) for c in colour)
    return r, g, b


def _octagon(cx: float, cy: float, radius: float) -> list[tuple[float, float]]:
    return [(cx + radius * math.cos(math.radians(22.5 + 45 * i)), cy + radius * math.sin(math.radians(22.5 + 45 * i)))
            for i in range(8)]


def _stop_sign(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float) -> None:
    draw.rectangle([cx - radius * 0.06, cy, cx + radius * 0.06, cy + radius * 3], fill=(120, 120, 120))  # the post
    draw.polygon(_octagon(cx, cy, radius), fill=(250, 250, 250))
    draw.polygon(_octagon(cx, cy, radius * 0.9), fill=(200, 20, 30))
    draw.text((cx, cy), "STOP", fill=(255, 255, 255), font=_font(max(int(radius * 0.62), 6)), anchor="mm")


def _clock(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float) -> None:
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=(30, 30, 30))
    face = radius * 0.9
    draw.ellipse([cx - face, cy - face, cx + face, cy + face], fill=(245, 245, 240))
    for hour in range(12):
        angle = math.radians(30 * hour)
        draw.line([cx + radius * 0.75 * math.cos(angle), cy + radius * 0.75 * math.sin(angle),
                   cx + radius * 0.85 * math.cos(angle), cy + radius * 0.85 * math.sin(angle)],
                  fill=(0, 0, 0), width=max(2, int(radius * 0.05)))
    draw.line([cx, cy, cx + radius * 0.5 * math.cos(-1.0), cy + radius * 0.5 * math.sin(-1.0)],
              fill=(0, 0, 0), width=max(3, int(radius * 0.07)))
    draw.line([cx, cy, cx + radius * 0.75 * math.cos(0.9), cy + radius * 0.75 * math.sin(0.9)],
              fill=(0, 0, 0), width=max(2, int(radius * 0.04)))


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size)  # Pillow's own scalable font: the same on every machine
