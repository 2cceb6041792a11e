"""The server reads request lines and headers itself: what Slack and proxies send is
read as the standard library would read it, and what is out of bounds is refused with
the status the standard library gives, never a traceback or a dropped connection."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from tests.fakes.slack import FakeSlack, signed_request, slash_command


def _exchange(url: str, data: bytes) -> bytes:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):  # until the server hangs up
            answer += chunk
            if b"\r\n\r\n" in answer and answer.startswith(b"HTTP/1.1 100"):
                break
    return answer


def _signed_post(extra: str = "", *, close: bool = True) -> tuple[bytes, str]:
    headers, raw = signed_request(slash_command("help"))
    # Odd case and spacing in names, as some proxies send them.
    head = "".join(f"{k.lower()}:   {v}\r\n" for k, v in headers.items())
    ending = "Connection: close\r\n" if close else ""
    return (
        f"POST /slack/events HTTP/1.1\r\nHost: x\r\n{head}{extra}{ending}"
        f"content-LENGTH: {len(raw.encode())}\r\n\r\n"
    ).encode(), raw


@pytest.mark.parametrize(
    "extra",
    [
        "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\n",  # a repeated header
        "X-Note: first part\r\n\tsecond part\r\n",  # a folded line carries on the one before
    ],
)
def test_a_signed_request_with_unusual_headers_is_answered(
    slack_http: str, fake_slack: FakeSlack, extra: str
) -> None:
    head, raw = _signed_post(extra)
    answer = _exchange(slack_http, head + raw.encode())
    assert answer.startswith(b"HTTP/1.1 200")
    assert b"/csp progress" in answer


def test_expect_100_continue_is_answered_before_the_body(
    slack_http: str, fake_slack: FakeSlack
) -> None:
    head, raw = _signed_post("Expect: 100-continue\r\n")
    parts = urlsplit(slack_http)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head)
        assert sock.recv(4096).startswith(b"HTTP/1.1 100")
        sock.sendall(raw.encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and b"/csp progress" in answer


def test_keep_alive_serves_a_second_request_on_the_same_connection(
    slack_http: str, fake_slack: FakeSlack
) -> None:
    first, raw = _signed_post(close=False)
    second, raw2 = _signed_post()
    answer = _exchange(slack_http, first + raw.encode() + second + raw2.encode())
    assert answer.count(b"HTTP/1.1 200") == 2


def test_out_of_bounds_heads_are_refused_with_the_standard_statuses(slack_http: str) -> None:
    cases = {
        b"GET /healthz HTTP/2.0\r\n\r\n": b"HTTP/1.1 505",
        b"GET /healthz\r\n\r\n": b"HTTP/1.1 400",
        b"GET /healthz HTTP/1.1 extra\r\n\r\n": b"HTTP/1.1 400",
        b"GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n": b"HTTP/1.1 400",
        b"GET /healthz HTTP/1.1\r\n: no name\r\n\r\n": b"HTTP/1.1 400",
        b"GET /healthz HTTP/1.1\r\n\tfolded first\r\n\r\n": b"HTTP/1.1 400",
        b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n": b"HTTP/1.1 431",
        b"GET /healthz HTTP/1.1\r\n"
        + b"".join(b"X-%d: y\r\n" % n for n in range(101))
        + b"\r\n": b"HTTP/1.1 431",
    }
    for sent, expected in cases.items():
        assert _exchange(slack_http, sent).startswith(expected), sent[:40]
    # The server is still serving after all of them.
    assert _exchange(slack_http, b"GET /healthz HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.1 200")
