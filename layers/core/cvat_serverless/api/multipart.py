"""``multipart/form-data`` bodies (CVAT's upload forms): fields and files, in the client's order.

REST framework reads ``client_files[10]`` after ``client_files[9]`` (numeric index order), and
Django keeps only a file part's basename (the SDK sends absolute client paths as file names).

The body is split at its boundary with ``bytes.find`` (RFC 7578 / RFC 2046): the SDK sends up to
100 MiB of media per request, which a line-based MIME parser (``email``) takes ~2.5 s and several
copies of memory to read; this takes one copy of each part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..domain.errors import ValidationError

_INDEXED = re.compile(r"^(?P<name>[^\[]+)\[(?P<index>\d+)\]$")
_PARAM = re.compile(r';\s*(?P<key>[\w*.-]+)\s*=\s*(?P<value>"(?:[^"\\]|\\.)*"|[^;]*)')
_BOUNDARY = re.compile(r'boundary\s*=\s*(?P<value>"[^"]+"|[^;\s]+)', re.IGNORECASE)
MAX_BOUNDARY = 200
MAX_HEADER_BYTES = 16 * 1024


@dataclass
class Form:
    fields: dict[str, str | list[str]] = field(default_factory=dict)
    files: list[tuple[str, bytes, str]] = field(default_factory=list)  # (file name, body, content type)


@dataclass(frozen=True, slots=True)
class _Part:
    name: str
    filename: str | None
    content_type: str
    data: bytes


def _error(why: str) -> ValidationError:
    return ValidationError(f"Multipart form parse error - {why}")


def _boundary(content_type: str) -> bytes:
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise _error("Invalid boundary in multipart: None")
    value = match.group("value").strip('"')
    if not 0 < len(value) <= MAX_BOUNDARY:
        raise _error(f"Invalid boundary in multipart: {value[:MAX_BOUNDARY]}")
    return value.encode("latin-1", errors="replace")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _headers(raw: bytes) -> tuple[str | None, str | None, str]:
    """(name, filename, content type) from a part's header lines."""
    name: str | None = None
    filename: str | None = None
    content_type = ""
    for line in raw.decode("utf-8", errors="replace").split("\r\n"):
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        if key == "content-disposition":
            params = {m.group("key").lower(): _unquote(m.group("value")) for m in _PARAM.finditer(value)}
            name = params.get("name")
            filename = params.get("filename")
        elif key == "content-type":
            content_type = value.split(";", 1)[0].strip().lower()
    return name, filename, content_type


def _parts(boundary: bytes, body: bytes) -> list[_Part]:
    delimiter = b"--" + boundary
    pos = body.find(delimiter)
    if pos < 0:
        raise _error("the body is not a multipart form.")
    parts: list[_Part] = []
    while True:
        pos += len(delimiter)
        if body[pos:pos + 2] == b"--":
            return parts  # the close delimiter (what follows is the epilogue)
        line_end = body.find(b"\r\n", pos)  # the rest of the delimiter line is transport padding
        if line_end < 0:
            raise _error("the form ends without its closing boundary.")
        if body[line_end:line_end + 4] == b"\r\n\r\n":
            header_end = line_end  # a part without headers
        else:
            header_end = body.find(b"\r\n\r\n", line_end + 2, line_end + 2 + MAX_HEADER_BYTES)
        if header_end < 0:
            raise _error("a part's headers do not end.")
        name, filename, content_type = _headers(body[line_end + 2:header_end])
        start = header_end + 4
        end = body.find(b"\r\n" + delimiter, start)
        if end < 0:
            raise _error("the form ends without its closing boundary.")
        if name is not None:
            parts.append(_Part(name, filename, content_type, body[start:end]))
        pos = end + 2


def parse_form(content_type: str, body: bytes) -> Form:
    """Fields (a repeated field becomes a list) and the files of every part with a file name."""
    form = Form()
    indexed: list[tuple[str, int, str, bytes, str]] = []
    for part in _parts(_boundary(content_type), body):
        if part.filename is not None:
            match = _INDEXED.match(part.name)
            base, index = (match.group("name"), int(match.group("index"))) if match else (part.name, len(indexed))
            indexed.append((base, index, part.filename, part.data, part.content_type or "application/octet-stream"))
            continue
        value = part.data.decode("utf-8", errors="replace")
        current = form.fields.get(part.name)
        if current is None:
            form.fields[part.name] = value
        else:
            form.fields[part.name] = [*([current] if isinstance(current, str) else current), value]
    indexed.sort(key=lambda p: (p[0], p[1]))
    form.files = [(filename, data, ctype) for _, _, filename, data, ctype in indexed]
    return form
