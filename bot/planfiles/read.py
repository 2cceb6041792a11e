"""Read a plan file in any supported format, choosing the reader by name and content.

A plan is a table with one row per statutory objective. Four shapes are read:

* ``seed``: the Word table saved as tab-separated text that partnerships keep
  today (title lines, a header row, a header repeated at each page break, and
  a row with an empty Objective that continues the row above);
* ``csv``: comma, semicolon or tab separated, as Excel or a script writes it;
* ``xlsx``: the first worksheet of an Excel workbook (title rows may sit above
  the header row);
* ``json``: the bot's own export, a list of objects or ``{"objectives": [...]}``.

Every non-blank line below the header becomes a row, is merged into the row
above (a continuation), or is reported. The whole file is read before anything
is reported, so one :class:`PlanFileError` lists every problem at once.
"""

from __future__ import annotations

import codecs
import io
import zipfile
from pathlib import PurePath

from bot.planfiles.csvfile import read_csv
from bot.planfiles.jsonfile import parse_json, read_json
from bot.planfiles.seedtext import read_seed
from bot.planfiles.table import ParsedPlan, empty_message, file_error
from bot.planfiles.xlsxfile import read_xlsx

MAX_FILE_BYTES = 10 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PDF_MAGIC = b"%PDF-"
_RTF_MAGIC = b"{\\rtf"
_OLE_WORD = "WordDocument".encode("utf-16-le")  # the stream every .doc file has
_SAVE_TABLE = "save the table as Excel (.xlsx) or CSV (UTF-8) and import that file instead."


def _kind_of_document(data: bytes, suffix: str) -> str | None:
    """ "a Word document" or "a PDF" when the file is one (by content, then by name)."""
    if data.startswith(_PDF_MAGIC) or suffix == ".pdf":
        return "a PDF"
    if data.startswith(_RTF_MAGIC) or suffix in {".doc", ".docx", ".docm", ".rtf", ".odt"}:
        return "a Word document"
    if data.startswith(_OLE_MAGIC) and _OLE_WORD in data:
        return "a Word document"
    if data.startswith(_ZIP_MAGIC):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except Exception:  # a damaged zip (bad offsets, unknown versions): not a known
            return None  # document; the Excel reader then says what is wrong with it
        if any(n.startswith("word/") for n in names):
            return "a Word document"
        if b"opendocument.text" in data[:200]:
            return "a Word document"
    return None


def _decode(data: bytes, filename: str) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise file_error(filename, _not_utf8(filename, None)) from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise file_error(filename, _not_utf8(filename, line)) from None
    if "\x00" in text:
        raise file_error(
            filename,
            f"{filename} contains NUL characters, so it is not a text file: save the plan "
            "as CSV UTF-8 (or .xlsx) and import it again.",
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _not_utf8(filename: str, line: int | None) -> str:
    where = f" (the first bad byte is on line {line})" if line is not None else ""
    return (
        f"{filename} is not UTF-8 text{where}: save it as UTF-8 (in Excel: CSV UTF-8) "
        "and import it again."
    )


def read_plan(data: bytes, filename: str) -> ParsedPlan:
    """Read a plan file in any supported format, or raise PlanFileError listing every problem.

    The format comes from the file name's extension, then from the content: a ZIP
    (``PK``) is an Excel workbook, text starting with ``{`` or ``[`` is JSON,
    tab-separated text is the seed table, anything else is CSV.
    """
    name = PurePath(filename).name or "the plan file"
    suffix = PurePath(filename).suffix.casefold()
    if len(data) > MAX_FILE_BYTES:
        raise file_error(
            name,
            f"{name} is {len(data) // (1024 * 1024)} MB; a plan is far smaller. "
            "Check it is the right file and import it again.",
        )
    document = _kind_of_document(data, suffix)
    if document is not None:
        raise file_error(name, f"{name}: this is {document}; {_SAVE_TABLE}")
    if data.startswith(_OLE_MAGIC) or suffix == ".xls":
        raise file_error(
            name,
            f"{name} is an old-style Excel workbook (.xls): save it as .xlsx or as "
            "CSV UTF-8 and import it again.",
        )
    if suffix in {".xlsx", ".xlsm"} or data.startswith(_ZIP_MAGIC):
        if not data.strip():
            raise file_error(name, empty_message(name, "seed"))
        return read_xlsx(data, name)
    text = _decode(data, name)
    if not text.strip():
        raise file_error(name, empty_message(name, "seed"))
    if suffix == ".json":
        try:
            doc = parse_json(text)
        except ValueError as exc:
            raise file_error(
                name,
                f"{name} is not valid JSON ({exc}): export the plan again with "
                "`csp-bot plan export --format json`, or import it as CSV.",
            ) from None
        return read_json(doc, name)
    if suffix not in {".csv", ".tsv"} and text.lstrip()[:1] in {"{", "["}:
        try:
            doc = parse_json(text)
        except ValueError:
            pass  # not JSON after all: read it as a table
        else:
            return read_json(doc, name)
    if suffix in {".csv", ".tsv"} or "\t" not in text:
        return read_csv(text, name)
    return read_seed(text, name)
