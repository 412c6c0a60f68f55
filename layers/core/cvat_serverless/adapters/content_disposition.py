"""The ``Content-Disposition`` a download URL asks the storage to answer with."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

_UNSAFE = re.compile(r'["\\]')  # the quoted-string's own delimiters


def attachment_disposition(filename: str) -> str:
    """``attachment; filename="<name>"`` (RFC 6266), plus ``filename*=UTF-8''<name>`` (RFC 5987)
    when the name is not plain ASCII: browsers and the SDK take ``filename*``, older clients the
    ASCII fallback. Header values are ASCII and one line, so nothing else passes through."""
    name = "".join(c for c in filename if unicodedata.category(c)[0] != "C")  # no CR/LF or controls
    decomposed = unicodedata.normalize("NFKD", name)  # "é" -> "e" + a combining accent, dropped below
    ascii_name = "".join(c if c.isascii() else "" if unicodedata.combining(c) else "_" for c in decomposed)
    fallback = _UNSAFE.sub("_", ascii_name) or "download"
    if fallback == name or not name:
        return f'attachment; filename="{fallback}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
