"""Every XML import parses untrusted input through defusedxml: entity expansion ("billion
laughs"), external entities (XXE) and external DTDs are refused with a FormatError (the API's
400) before anything is expanded or fetched."""

from __future__ import annotations

import io
import time
import xml.sax
from collections.abc import Callable

import pytest
from format_helpers import export_bytes
from more_format_helpers import rezip

from cvat_serverless.api.errors import status_for
from cvat_serverless.domain.annotations import DatasetView, LabeledData
from cvat_serverless.domain.errors import FormatError
from cvat_serverless.formats.registry import get_exporter, get_importer

LAUGHS = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
BILLION_LAUGHS = (
    f'<?xml version="1.0"?>\n<!DOCTYPE annotation [<!ENTITY l0 "lol">{LAUGHS}]>\n<annotation>&l9;</annotation>'
)
XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE annotation [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    "<annotation><filename>&xxe;</filename></annotation>"
)
EXTERNAL_DTD = '<?xml version="1.0"?>\n<!DOCTYPE annotation SYSTEM "http://127.0.0.1:9/evil.dtd">\n<annotation/>'
PARAMETER_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE annotation [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>\n<annotation/>'
)


def _cvat(view: DatasetView, xml: str) -> bytes:
    return xml.replace("<annotation", "<annotations").replace("</annotation>", "</annotations>").encode()


def _in_export(exporter: str, member: str) -> Callable[[DatasetView, str], bytes]:
    def build(view: DatasetView, xml: str) -> bytes:
        return rezip(export_bytes(get_exporter(exporter), view), lambda c: c.update({member: xml.encode()}))

    return build


IMPORTERS = {
    "CVAT 1.1": ("annotations.xml", _cvat),
    "PASCAL VOC 1.1": ("voc.zip", _in_export("PASCAL VOC 1.1", "Annotations/img_0.xml")),
    "LabelMe 3.0": ("labelme.zip", _in_export("LabelMe 3.0", "default/img_0.xml")),
}


def _import(fmt: str, view: DatasetView, xml: str) -> LabeledData:
    filename, build = IMPORTERS[fmt]
    return get_importer(fmt)(io.BytesIO(build(view, xml)), view, filename)


@pytest.mark.parametrize("fmt", sorted(IMPORTERS))
@pytest.mark.parametrize("xml", [BILLION_LAUGHS, XXE, EXTERNAL_DTD, PARAMETER_ENTITY],
                         ids=["billion-laughs", "xxe", "external-dtd", "parameter-entity"])
def test_entity_tricks_are_refused_as_a_400(view: DatasetView, fmt: str, xml: str) -> None:
    started = time.monotonic()
    with pytest.raises(FormatError, match=r"line 2: DOCTYPE declarations are not allowed") as refused:
        _import(fmt, view, xml)
    assert status_for(refused.value) == 400
    assert time.monotonic() - started < 5  # refused at the DOCTYPE, nothing expanded


@pytest.mark.parametrize("fmt", sorted(IMPORTERS))
def test_an_undeclared_entity_is_malformed_xml(view: DatasetView, fmt: str) -> None:
    with pytest.raises(FormatError, match=r"line 1: malformed XML \(undefined entity"):
        _import(fmt, view, "<annotation>&xxe;</annotation>")


@pytest.mark.parametrize("fmt", sorted(IMPORTERS))
def test_imports_never_build_the_standard_library_parser(
    view: DatasetView, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("xml.sax.make_parser: XML imports go through defusedxml")

    monkeypatch.setattr(xml.sax, "make_parser", refuse)
    data = export_bytes(get_exporter(fmt if fmt != "CVAT 1.1" else "CVAT for images 1.1"), view)
    filename = IMPORTERS[fmt][0].replace("annotations.xml", "cvat.zip")
    assert len(get_importer(fmt)(io.BytesIO(data), view, filename)) > 0
