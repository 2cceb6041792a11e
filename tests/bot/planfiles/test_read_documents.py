"""A Word document or a PDF given as a plan is named as one, by its content or its name."""

from __future__ import annotations

import io
import zipfile

import pytest

from bot.planfiles.read import read_plan
from bot.planfiles.table import PlanFileError


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
DOC = OLE + b"\x00" * 500 + "WordDocument".encode("utf-16-le") + b"\x00" * 100
XLS = OLE + b"\x00" * 500 + "Workbook".encode("utf-16-le") + b"\x00" * 100
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


def _problem(data: bytes, name: str) -> str:
    with pytest.raises(PlanFileError) as err:
        read_plan(data, name)
    return str(err.value)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (_docx(), "plan.docx"),
        (_docx(), "plan.csv"),  # named as CSV, but it is a Word file
        (_docx(), "plan"),
        (DOC, "plan.doc"),
        (DOC, "plan.txt"),
        (b"{\\rtf1\\ansi plan}", "plan.rtf"),
    ],
)
def test_a_word_document_is_named_and_told_to_save_as_excel_or_csv(data: bytes, name: str) -> None:
    said = _problem(data, name)
    assert "this is a Word document" in said
    assert "save the table as Excel (.xlsx) or CSV (UTF-8)" in said
    assert "Excel workbook" not in said and "header row" not in said


@pytest.mark.parametrize("name", ["plan.pdf", "plan.csv", "plan"])
def test_a_pdf_is_named_as_one(name: str) -> None:
    said = _problem(PDF, name)
    assert "this is a PDF" in said and "CSV (UTF-8)" in said
    assert "header row" not in said


def test_an_old_excel_file_is_still_told_about_xls() -> None:
    assert ".xls" in _problem(XLS, "plan.xls")
    assert "Word" not in _problem(XLS, "plan.xls")
