"""A small, safe XML tree reader for the per-image XML formats (PASCAL VOC, LabelMe).

Every element keeps the line it starts on, so importers can name the file and line of a bad
value. Every XML import parses through :func:`sax_parse`: a streaming defusedxml (expat) parser
that refuses any DOCTYPE, entity declaration or external reference, which rules out entity
expansion ("billion laughs") and external entities (XXE). The per-image files are one image
each, so a tree is small. Writing XML stays with the standard library's escapes.
"""

from __future__ import annotations

import xml.sax
import xml.sax.handler
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from xml.sax.saxutils import escape

import defusedxml.sax
from defusedxml import DefusedXmlException, DTDForbidden

from cvat_serverless.domain.errors import FormatError

__all__ = ["XmlNode", "parse_xml", "text_element"]


@dataclass(slots=True)
class XmlNode:
    tag: str
    attrs: dict[str, str]
    line: int
    children: list[XmlNode] = field(default_factory=list)
    text: str = ""

    def find(self, tag: str) -> XmlNode | None:
        for child in self.children:
            if child.tag == tag:
                return child
        return None

    def findall(self, tag: str) -> Iterator[XmlNode]:
        return (c for c in self.children if c.tag == tag)

    def child_text(self, tag: str, default: str | None = None) -> str | None:
        child = self.find(tag)
        return child.text.strip() if child is not None else default


class _TreeBuilder(xml.sax.handler.ContentHandler):
    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file
        self.locator: Any = None
        self.stack: list[XmlNode] = []
        self.root: XmlNode | None = None
        self.text: list[str] = []

    def setDocumentLocator(self, locator: Any) -> None:
        self.locator = locator

    def line(self) -> int:
        return int(self.locator.getLineNumber()) if self.locator is not None else 0

    def startElement(self, name: str, attrs: Any) -> None:
        self._flush()
        node = XmlNode(name, dict(attrs.items()), self.line())
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def characters(self, content: str) -> None:
        self.text.append(content)

    def _flush(self) -> None:
        if self.stack and self.text:
            self.stack[-1].text += "".join(self.text)
        self.text = []

    def endElement(self, name: str) -> None:
        self._flush()
        self.stack.pop()


def sax_parse(stream: IO[bytes], handler: xml.sax.handler.ContentHandler, file: str) -> None:
    """Stream ``stream`` through ``handler`` as untrusted input. A DOCTYPE (and with it every
    entity declaration), an external reference, malformed XML, and an XML declaration naming an
    encoding Python does not know are a ``FormatError`` naming file and line."""
    parser = defusedxml.sax.make_parser()
    parser.forbid_dtd = True  # no CVAT, VOC or LabelMe file has one: refuse it outright
    parser.setContentHandler(handler)
    try:
        parser.parse(stream)
    except DTDForbidden as exc:
        raise FormatError(f"{file}, line {parser.getLineNumber()}: DOCTYPE declarations are not allowed") from exc
    except DefusedXmlException as exc:  # entities or external references (unreachable without a DTD)
        raise FormatError(f"{file}, line {parser.getLineNumber()}: {exc}") from exc
    except xml.sax.SAXParseException as exc:
        raise FormatError(f"{file}, line {exc.getLineNumber()}: malformed XML ({exc.getMessage()})") from exc
    except LookupError as exc:  # <?xml encoding="..."?> that no codec answers to
        raise FormatError(f"{file}, line 1: malformed XML ({exc})") from exc


def parse_xml(stream: IO[bytes], file: str) -> XmlNode:
    """The document's root element; malformed XML is a ``FormatError`` naming file and line."""
    handler = _TreeBuilder(file)
    sax_parse(stream, handler, file)
    if handler.root is None:
        raise FormatError(f"{file}: empty XML document")
    return handler.root


def text_element(tag: str, value: object) -> str:
    return f"<{tag}>{escape(str(value))}</{tag}>"
