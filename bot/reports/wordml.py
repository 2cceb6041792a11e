"""WordprocessingML fragments (paragraphs, tables) built as text and parsed in one go.

python-docx looks a style up by name on every paragraph it styles, which costs
milliseconds each; a pack for 500 objectives has thousands. The pack's body is written
here as markup with the template's style ids and parsed once; python-docx still makes
the package (styles, the chart, properties).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
TEXT_WIDTH = 9026  # twentieths of a point: A4 less 2.54 cm margins each side

# Characters XML 1.0 cannot hold (a pasted form feed, a vertical tab...).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _runs(text: str, *, bold: bool = False) -> str:
    props = "<w:rPr><w:b/></w:rPr>" if bold else ""
    lines = _ILLEGAL.sub("", text).split("\n")
    inner = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(line)}</w:t>' for line in lines)
    return f"<w:r>{props}{inner}</w:r>" if text else ""


def paragraph(text: str, style: str | None = None, *, bold: bool = False) -> str:
    """One paragraph; ``style`` is a style id of the template ("Heading2", "ListBullet")."""
    props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{props}{_runs(text, bold=bold)}</w:p>"


def heading(text: str, level: int) -> str:
    return paragraph(text, f"Heading{level}")


def page_break() -> str:
    return '<w:p><w:r><w:br w:type="page"/></w:r></w:p>'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A "Table Grid" table with a bold header row that repeats on each page."""
    width = TEXT_WIDTH // max(1, len(headers))
    grid = "".join(f'<w:gridCol w:w="{width}"/>' for _ in headers)
    cell_props = f'<w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr>'

    def row(values: Sequence[str], *, header: bool = False) -> str:
        cells = "".join(
            f"<w:tc>{cell_props}<w:p>{_runs(v, bold=header)}</w:p></w:tc>" for v in values
        )
        props = "<w:trPr><w:tblHeader/></w:trPr>" if header else ""
        return f"<w:tr>{props}{cells}</w:tr>"

    body = "".join(row(values) for values in rows)
    return (
        '<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:type="auto" w:w="0"/>'
        '<w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" '
        'w:noHBand="0" w:noVBand="1" w:val="04A0"/></w:tblPr>'
        f"<w:tblGrid>{grid}</w:tblGrid>{row(headers, header=True)}{body}</w:tbl>"
    )


def fragment(parts: Iterable[str]) -> str:
    """The parts wrapped in one element, ready for ``docx.oxml.parse_xml``."""
    return f'<w:body xmlns:w="{W_NS}">{"".join(parts)}</w:body>'
