"""media/model_input.py: a frame as a detector's input (the file as uploaded when the model takes
it; else a JPEG; else a smaller JPEG, with the scale to map detections back)."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from cvat_serverless.media.errors import CorruptMediaError
from cvat_serverless.media.model_input import model_image


def noisy(size: tuple[int, int], fmt: str) -> bytes:
    rng = random.Random(7)
    image = Image.frombytes("RGB", size, bytes(rng.randrange(256) for _ in range(size[0] * size[1] * 3)))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def test_jpeg_and_png_under_the_budget_go_as_uploaded():
    for fmt in ("JPEG", "PNG"):
        data = noisy((40, 30), fmt)
        assert model_image(data, f"a.{fmt.lower()}", len(data)) == (data, 1.0)


def test_other_formats_are_reencoded_as_jpeg_at_full_size():
    data = noisy((40, 30), "BMP")
    encoded, scale = model_image(data, "a.bmp", 10**6)
    assert encoded[:3] == b"\xff\xd8\xff" and scale == 1.0
    assert Image.open(io.BytesIO(encoded)).size == (40, 30)


def test_an_image_over_the_budget_is_downscaled_and_says_by_how_much():
    data = noisy((400, 300), "PNG")
    encoded, scale = model_image(data, "big.png", 40_000)
    assert len(encoded) <= 40_000 and 0 < scale < 1
    width, height = Image.open(io.BytesIO(encoded)).size
    assert width == pytest.approx(400 * scale, abs=1) and height == pytest.approx(300 * scale, abs=1)


def test_no_downscale_for_mask_models():
    data = noisy((200, 150), "PNG")
    encoded, scale = model_image(data, "m.png", 1000, allow_downscale=False)
    assert scale == 1.0 and Image.open(io.BytesIO(encoded)).size == (200, 150)


def test_undecodable_bytes_are_a_media_error_naming_the_file():
    with pytest.raises(CorruptMediaError, match=r"broken\.tif"):
        model_image(b"not an image at all", "broken.tif", 10)
