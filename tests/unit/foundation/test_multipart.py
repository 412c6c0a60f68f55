"""The multipart/form-data reader of the upload forms (api/multipart.py): what urllib3 (cvat-sdk)
and requests (FiftyOne) send, read as Django would, and broken bodies refused as 400s."""

from __future__ import annotations

import os

import pytest
from urllib3 import encode_multipart_formdata
from urllib3.fields import RequestField

from cvat_serverless.api.multipart import parse_form
from cvat_serverless.domain.errors import ValidationError


def _encode(fields: list[tuple[str, object]]) -> tuple[str, bytes]:
    body, content_type = encode_multipart_formdata(fields)
    return content_type, body


def test_fields_and_files_as_the_sdk_sends_them_in_numeric_index_order():
    files = {i: os.urandom(1000 + i) for i in range(12)}
    fields: list[tuple[str, object]] = [("image_quality", "70")]
    fields += [(f"client_files[{i}]", (f"/home/me/pics/IMG_{i}.png", files[i], "image/png"))
               for i in (10, 11, *range(10))]
    fields += [("use_cache", "True"), ("use_cache", "False")]
    form = parse_form(*_encode(fields))
    assert form.fields == {"image_quality": "70", "use_cache": ["True", "False"]}
    assert [f[0] for f in form.files] == [f"/home/me/pics/IMG_{i}.png" for i in range(12)]
    assert [f[1] for f in form.files] == [files[i] for i in range(12)]
    assert {f[2] for f in form.files} == {"image/png"}


def test_file_names_are_read_as_sent_utf8_and_html5_escaped_quotes_as_django_reads_them():
    field = RequestField("client_files[0]", b"x", filename='caf\u00e9 "1".jpg')
    field.make_multipart(content_type="image/jpeg")
    body, content_type = encode_multipart_formdata([field])
    (name, data, ctype), = parse_form(content_type, body).files
    assert data == b"x" and ctype == "image/jpeg"
    assert name == "caf\u00e9 %221%22.jpg"  # urllib3 writes " as %22, which Django keeps as it is


def test_a_body_that_contains_the_boundary_text_without_crlf_is_kept_whole():
    tricky = b"prefix--B0undary suffix\n--B0undary--\r--B0undary"  # the delimiter, but never after CRLF
    body, content_type = encode_multipart_formdata([("client_files[0]", ("a.bin", tricky, "application/x"))],
                                                   boundary="B0undary")
    assert parse_form(content_type, body).files == [("a.bin", tricky, "application/x")]


def test_preamble_epilogue_and_parts_without_a_name_are_ignored():
    body = (b"preamble\r\n--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
            b"--B\r\nContent-Type: text/plain\r\n\r\nno name\r\n--B--\r\nepilogue")
    form = parse_form('multipart/form-data; boundary="B"', body)
    assert form.fields == {"a": "1"} and form.files == []


@pytest.mark.parametrize(("content_type", "body", "why"), [
    ("multipart/form-data", b"--B\r\n\r\n--B--", "boundary"),
    ("multipart/form-data; boundary=B", b"no delimiter at all", "not a multipart form"),
    ("multipart/form-data; boundary=B", b"--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated",
     "closing boundary"),
    ("multipart/form-data; boundary=B", b"--B\r\nContent-Disposition: form-data; name=\"a\"", "headers do not end"),
    ("multipart/form-data; boundary=B", b"--B\r\nContent-Disposition: form-data; name=\"a\"\r\nX: " + b"y" * 20000,
     "headers do not end"),
])
def test_broken_forms_are_validation_errors(content_type, body, why):
    with pytest.raises(ValidationError, match=why):
        parse_form(content_type, body)
