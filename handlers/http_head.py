"""Reading an HTTP request's header block, for the HTTP server (:mod:`handlers.server`).

The standard library reads headers through the email parser, about a tenth of a
short request's time; Slack's requests need only names and values. Lines and the
number of headers are bounded as the standard library bounds them.
"""

from __future__ import annotations

from http.client import HTTPMessage
from typing import Any

_MAX_LINE = 65536  # as the standard library bounds a request's lines and headers
_MAX_HEADERS = 100


def read_headers(rfile: Any) -> HTTPMessage | str | None:
    """The header block up to its blank line: the headers, None when a line is not a
    header, or why the block is too large."""
    found = HTTPMessage()
    name: str | None = None
    value = ""
    count = 0
    while True:
        line = rfile.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            return "Line too long"
        if line in (b"\r\n", b"\n", b""):
            break
        text = str(line, "iso-8859-1").rstrip("\r\n")
        if text[:1] in (" ", "\t"):  # a folded line carries on the header before it
            if name is None:
                return None
            value = f"{value} {text.strip()}"
            continue
        if name is not None:
            found[name] = value
        count += 1
        if count > _MAX_HEADERS:
            return "Too many headers"
        name, colon, rest = text.partition(":")
        name = name.strip()
        if not colon or not name:
            return None
        value = rest.strip()
    if name is not None:
        found[name] = value
    return found
