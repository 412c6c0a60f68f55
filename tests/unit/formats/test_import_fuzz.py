"""Seeded mutation fuzz of every importer: an exported archive with one member edited (bytes
flipped, cut, or JSON/XML/text tokens spliced in), sometimes the ZIP itself damaged, imported
into the task it came from. Whatever the damage, the importer answers or raises a
ValidationError (FormatError, ArchiveError...), the API's 400, and finishes within seconds.

The same generator, run for 15,000 cases, found the cases pinned in test_damaged_imports.py;
this runs a few hundred on every test run, the same ones each time (fixed seeds)."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from format_helpers import export_bytes, make_view

from cvat_serverless.domain.errors import ValidationError
from cvat_serverless.formats.registry import get_exporter, get_importer, list_exporters, list_importers

CASES_PER_FORMAT = 200
TOKENS = [
    b"",
    b"-1",
    b"1e309",
    b"NaN",
    b"null",
    b'"x"',
    b"[]",
    b"{}",
    b"<a>",
    b"</annotations>",
    b"&",
    b"\x00",
    b"\xff\xfe",
    b"99999999999999999999",
    b"0",
    b"true",
    b",",
    b"\n",
    b"\r",
    b"../../x",
    b"'",
    b'"',
]


def _pairs() -> list[tuple[str, str]]:
    importers = {s.display_name for s in list_importers()}
    pairs = []
    for spec in list_exporters():
        name = spec.display_name
        importer = name if name in importers else ("CVAT 1.1" if name.startswith("CVAT for") else None)
        if importer is not None:
            pairs.append((name, importer))
    return pairs


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data) or bytearray(b"x")
    for _ in range(rng.choice([1, 1, 2, 3, 8])):
        i = rng.randrange(len(b)) if b else 0
        op = rng.random()
        if op < 0.3 and b:
            b[i] = rng.randrange(256)
        elif op < 0.5:
            b[i : i + rng.randrange(1, 12)] = rng.choice(TOKENS)
        elif op < 0.6:
            del b[i:]
        elif op < 0.8:
            j = i
            while j < len(b) and chr(b[j]).isdigit():
                j += 1
            b[i : max(j, i + 1)] = rng.choice(TOKENS)  # a number (or one byte) becomes a token
        else:
            b[i:i] = rng.choice(TOKENS)
    return bytes(b)


def damaged(archive: bytes, rng: random.Random) -> bytes:
    with zipfile.ZipFile(io.BytesIO(archive)) as src:
        names = src.namelist()
        victim = rng.choice(names)
        drop = rng.random() < 0.05
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])) as dst:
            for name in names:
                body = src.read(name)
                if name == victim:
                    if drop:
                        continue
                    body = mutate(body, rng)
                dst.writestr(name, body)
    data = out.getvalue()
    return mutate(data, rng) if rng.random() < 0.1 else data


@pytest.mark.slow  # 200 damaged archives per format on purpose
@pytest.mark.parametrize(("exporter", "importer"), _pairs())
def test_damaged_archives_are_imported_or_refused_with_a_validation_error(
    exporter: str, importer: str, deadline: Callable[[int], AbstractContextManager[None]]
) -> None:
    video = "video" in exporter or exporter.startswith("MOT")
    view = make_view(video=video)
    archive = export_bytes(get_exporter(exporter), view)
    rng = random.Random(f"{exporter}/{importer}")
    outcomes = {"imported": 0, "refused": 0}
    for case in range(CASES_PER_FORMAT):
        upload = damaged(archive, rng)
        try:
            with deadline(20):
                get_importer(importer)(io.BytesIO(upload), view, "upload.zip")
            outcomes["imported"] += 1
        except ValidationError as exc:
            assert str(exc), f"case {case}: an error without a message"
            outcomes["refused"] += 1
        except Exception as exc:  # the finding: report the case so it can be replayed
            raise AssertionError(f"case {case} of {exporter}: {type(exc).__name__}: {exc}") from exc
    assert outcomes["refused"] > 0  # the damage is real: some uploads must be refused
