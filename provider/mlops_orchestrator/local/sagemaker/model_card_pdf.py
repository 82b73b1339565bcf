"""The PDF an emulated model card export job writes: the card's fields as lines of text.

SageMaker renders a styled document; what a pipeline or a person checks locally is that a real PDF
(readable by any viewer, ``%PDF-`` header, cross-reference table) holding the card's name,
version, status and every field of its content lands where the export job says.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

_LINES_PER_PAGE = 60
_WIDTH = 95


def card_lines(card: dict[str, Any]) -> list[str]:
    """The card as ``path: value`` lines, sections in the content's order."""
    lines = [
        f"Model card: {card.get('ModelCardName')}",
        f"Version {card.get('ModelCardVersion')} - status {card.get('ModelCardStatus')}",
        "",
    ]
    try:
        content = json.loads(card.get("Content") or "{}")
    except ValueError:
        content = {}

    def walk(path: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{path}.{key}" if path else str(key), item)
        elif isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
            for index, item in enumerate(value):
                walk(f"{path}[{index}]", item)
        else:
            text = json.dumps(value) if isinstance(value, list) else str(value)
            lines.extend(textwrap.wrap(f"{path}: {text}", _WIDTH, subsequent_indent="    ") or [path])

    walk("", content)
    return lines


def _escape(line: str) -> str:
    text = line.encode("latin-1", "replace").decode("latin-1")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def card_pdf(card: dict[str, Any]) -> bytes:
    """A PDF 1.4 document of ``card_lines`` (Helvetica 10 pt, A4, as many pages as needed)."""
    lines = card_lines(card)
    pages = [lines[i : i + _LINES_PER_PAGE] for i in range(0, len(lines), _LINES_PER_PAGE)] or [[]]
    objects: list[bytes] = [b"", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    page_ids = []
    for page in pages:
        stream = "BT /F1 10 Tf 12 TL 40 800 Td " + " ".join(f"({_escape(line)}) '" for line in page) + " ET"
        data = stream.encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents %d 0 R >>" % content_id
        )
        page_ids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    kids = " ".join(f"{i} 0 R" for i in page_ids).encode()
    objects[1] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(page_ids)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
