"""``multipart/form-data`` bodies (CVAT's upload forms): fields and files, in the client's order.

REST framework reads ``client_files[10]`` after ``client_files[9]`` (numeric index order), and
Django keeps only a file part's basename (the SDK sends absolute client paths as file names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP

from ..domain.errors import ValidationError

_INDEXED = re.compile(r"^(?P<name>[^\[]+)\[(?P<index>\d+)\]$")


@dataclass
class Form:
    fields: dict[str, str | list[str]] = field(default_factory=dict)
    files: list[tuple[str, bytes, str]] = field(default_factory=list)  # (file name, body, content type)


def parse_form(content_type: str, body: bytes) -> Form:
    """Fields (a repeated field becomes a list) and the files of every part with a file name."""
    if "boundary=" not in content_type:
        raise ValidationError("Multipart form parse error - Invalid boundary in multipart: None")
    head = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ValidationError("Multipart form parse error - the body is not a multipart form.")
    form = Form()
    indexed: list[tuple[str, int, str, bytes, str]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            match = _INDEXED.match(name)
            base, index = (match.group("name"), int(match.group("index"))) if match else (name, len(indexed))
            indexed.append((base, index, filename, data, part.get_content_type()))
            continue
        value = data.decode("utf-8", errors="replace")
        current = form.fields.get(name)
        if current is None:
            form.fields[name] = value
        else:
            form.fields[name] = [*([current] if isinstance(current, str) else current), value]
    indexed.sort(key=lambda p: (p[0], p[1]))
    form.files = [(filename, data, ctype) for _, _, filename, data, ctype in indexed]
    return form
