"""A small, safe XML tree reader for the per-image XML formats (PASCAL VOC, LabelMe).

Every element keeps the line it starts on, so importers can name the file and line of a bad
value. The reader streams with SAX (no external entities) and refuses any DOCTYPE, which rules
out entity-expansion bombs; the files are one image each, so a tree is small.
"""

from __future__ import annotations

import xml.sax
import xml.sax.handler
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from xml.sax.saxutils import escape

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

    # lexical handler: a DTD is never legitimate in these formats
    def startDTD(self, name: str, public_id: str | None, system_id: str | None) -> None:
        raise FormatError(f"{self.file}, line {self.line()}: DOCTYPE declarations are not allowed")

    def endDTD(self) -> None:
        pass

    def startCDATA(self) -> None:
        pass

    def endCDATA(self) -> None:
        pass

    def comment(self, content: str) -> None:
        pass

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


def sax_parse(stream: IO[bytes], handler: Any, file: str) -> None:
    """Stream ``stream`` through ``handler`` (content and lexical events) as untrusted input: no
    external entities (and the handlers refuse DTDs). Malformed XML, and an XML declaration
    naming an encoding Python does not know, are a ``FormatError`` naming file and line."""
    parser = xml.sax.make_parser()  # noqa: S317 - DTDs refused, external entities off
    parser.setFeature(xml.sax.handler.feature_external_ges, False)
    parser.setFeature(xml.sax.handler.feature_external_pes, False)
    parser.setProperty(xml.sax.handler.property_lexical_handler, handler)
    parser.setContentHandler(handler)
    try:
        parser.parse(stream)
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
