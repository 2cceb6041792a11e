"""Making the pack: the model for a quarter, rendered as Word or Excel, with its file name."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from bot.reports.build import build_report
from bot.reports.model import Report
from bot.time.quarters import Quarter
from store.models import Partnership

ReportFormat = Literal["docx", "xlsx"]
FORMATS: tuple[ReportFormat, ...] = ("docx", "xlsx")


@dataclass(frozen=True)
class PackFile:
    report: Report
    filename: str
    data: bytes
    format: ReportFormat


def render(report: Report, fmt: ReportFormat) -> bytes:
    """The pack's bytes in ``fmt`` (the renderers import python-docx, matplotlib and
    openpyxl, so only a command that makes a pack loads them)."""
    if fmt == "xlsx":
        from bot.reports.xlsx_file import render_xlsx

        return render_xlsx(report)
    from bot.reports.docx_file import render_docx

    return render_docx(report)


def file_name(quarter: Quarter, fmt: ReportFormat) -> str:
    return f"csp-scrutiny-pack-{quarter.code}.{fmt}"


def make_pack(
    session: Session,
    partnership: Partnership,
    quarter: Quarter,
    fmt: ReportFormat,
    *,
    now: dt.datetime,
) -> PackFile:
    report = build_report(session, partnership, quarter, now=now)
    return PackFile(report, file_name(quarter, fmt), render(report, fmt), fmt)
