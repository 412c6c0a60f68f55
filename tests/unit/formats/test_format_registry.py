from __future__ import annotations

import subprocess
import sys

import pytest

from cvat_serverless.formats.registry import (
    UnknownFormatError,
    get_exporter,
    get_importer,
    list_exporters,
    list_importers,
)


def test_listed_formats_have_cvat_fields() -> None:
    for spec in [*list_exporters(), *list_importers()]:
        d = spec.to_dict()
        assert set(d) == {"name", "ext", "version", "enabled", "dimension"}
        assert d["name"] == f"{spec.name} {spec.version}"
        assert len(d["dimension"]) <= 2 and all(len(str(v)) <= 64 for v in d.values())


def test_unknown_format_is_a_validation_error() -> None:
    with pytest.raises(UnknownFormatError, match=r"Unknown export format 'COCO 9\.9'"):
        get_exporter("COCO 9.9")
    with pytest.raises(UnknownFormatError):
        get_importer("coco 1.0")  # names are exact and case-sensitive, as in CVAT


def test_listing_formats_does_not_load_the_media_stack() -> None:
    code = (
        "import sys\n"
        "from cvat_serverless.formats.registry import list_exporters, list_importers\n"
        "list_exporters(); list_importers()\n"
        "heavy = [m for m in ('numpy', 'PIL', 'av', 'boto3') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_an_export_runs_with_the_model_frozen_out_of_the_collector_and_thaws_after() -> None:
    import gc
    import io

    from cvat_serverless.domain.annotations import DatasetView, FrameInfo, LabelSpec
    from cvat_serverless.formats import registry

    seen: list[int] = []

    def spy(view: DatasetView, out: object, images: object = None) -> None:
        seen.append(gc.get_freeze_count())

    registry._register(registry._exporters, registry.FormatSpec("Spy", "ZIP", "0.1"), spy)
    try:
        view = DatasetView(labels=[LabelSpec(id=1, name="car")], frames=[FrameInfo(0, "a.jpg", 4, 4)])
        assert gc.get_freeze_count() == 0
        get_exporter("Spy 0.1")(view, io.BytesIO(), None)
        assert seen and seen[0] > 0  # the model (and everything else alive) was frozen
        assert gc.get_freeze_count() == 0

        def failing(view: DatasetView, out: object, images: object = None) -> None:
            raise ValueError("boom")

        registry._register(registry._exporters, registry.FormatSpec("Fail", "ZIP", "0.1"), failing)
        with pytest.raises(ValueError, match="boom"):
            get_exporter("Fail 0.1")(view, io.BytesIO(), None)
        assert gc.get_freeze_count() == 0
    finally:
        registry._exporters.pop("Spy 0.1", None)
        registry._exporters.pop("Fail 0.1", None)
