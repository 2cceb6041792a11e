"""Byte-stable zip packages: every member re-stored with one fixed timestamp, in order."""

from __future__ import annotations

import datetime as dt
import io
import zipfile


def stable_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """``data`` (a .docx or .xlsx package) with each member's time set to ``stamp``, so
    the same content always gives the same bytes (zip writers stamp the wall clock)."""
    when = stamp.astimezone(dt.UTC)
    date_time = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=date_time)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o600 << 16
            target.writestr(member, source.read(info.filename))
    return out.getvalue()
