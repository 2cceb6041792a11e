"""The public endpoint under hostile bodies: the signature is checked before any parsing,
and malformed signed payloads get a 400 or a kind reply, never a 500 or a traceback."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.fakes.slack import FakeSlack, signed_request

FORM = "application/x-www-form-urlencoded"


def _send(base: str, raw: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(f"{base}/slack/events", data=raw, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _garbage() -> list[tuple[str, str]]:
    """70 unsigned bodies: (content type, raw body)."""
    bodies: list[tuple[str, str]] = []
    for depth in range(10):
        bodies += [
            (FORM, urlencode({"payload": "not-json" + "x" * depth})),
            (FORM, urlencode({"payload": str(5 + depth)})),
            ("application/json", "{not json" + "," * depth),
            ("application/json", json.dumps(list(range(depth + 2)))),
            ("application/json", "[" * (100 * (depth + 1)) + "]" * (100 * (depth + 1))),
            (FORM, urlencode({"payload": "[" * (500 * (depth + 1))})),
            (FORM, "payload=%7B%22type%22%3A" + "%5B" * (depth + 1)),
        ]
    return bodies


def _no_tracebacks(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]


def test_unsigned_garbage_gets_401_before_parsing(
    slack_http: str,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    bodies = _garbage()
    assert len(bodies) == 70
    for content_type, raw in bodies:
        status, _ = _send(slack_http, raw.encode(), {"Content-Type": content_type})
        assert status == 401, raw[:60]
    assert fake_slack.calls == []
    _no_tracebacks(caplog, capfd)


def _payload(body: Any) -> str:
    return urlencode({"payload": json.dumps(body)})


MALFORMED: dict[str, tuple[str, str]] = {
    "actions null": (
        "form",
        _payload(
            {
                "type": "block_actions",
                "team": {"id": "T0CSP"},
                "user": {"id": "UADMIN", "team_id": "T0CSP"},
                "api_app_id": "A0CSP",
                "trigger_id": "T1",
                "actions": None,
            }
        ),
    ),
    "actions of numbers": ("form", _payload({"type": "block_actions", "actions": [5]})),
    "view null": (
        "form",
        _payload(
            {
                "type": "view_submission",
                "team": {"id": "T0CSP"},
                "user": {"id": "UADMIN", "team_id": "T0CSP"},
                "api_app_id": "A0CSP",
                "view": None,
            }
        ),
    ),
    "view state null": (
        "form",
        _payload({"type": "view_submission", "view": {"callback_id": "x", "state": None}}),
    ),
    "payload a number": ("form", urlencode({"payload": "5"})),
    "payload not json": ("form", urlencode({"payload": "not-json"})),
    "deep payload": ("form", urlencode({"payload": "[" * 5000 + "]" * 5000})),
    "deep json": ("json", "[" * 5000 + "]" * 5000),
    "deep object": ("json", '{"a":' * 5000 + "1" + "}" * 5000),
    "json list": ("json", "[1,2]"),
    "event null": ("json", json.dumps({"type": "event_callback", "event": None})),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_signed_malformed_payloads_get_a_400_or_a_kind_reply(
    slack_http: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    case: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    content_type, raw = MALFORMED[case]
    headers, signed = signed_request(raw, content_type=content_type)
    status, body = _send(slack_http, signed.encode(), headers)
    assert status in (200, 400), (status, body)
    assert "Something went wrong" not in body
    if status == 400:
        assert body  # a plain sentence, not an empty error
    _no_tracebacks(caplog, capfd)


def test_the_shape_check_lets_every_usual_shape_through() -> None:
    from handlers.payloads import malformed

    action = {"type": "block_actions", "team": "T0CSP", "actions": [{"action_id": "a"}]}
    usual: list[dict[str, Any]] = [
        {"command": "/csp", "text": "help", "team_id": "T0CSP"},
        action,
        {**action, "team": {"id": "T0CSP"}, "view": {"id": "V1"}},
        {"type": "view_submission", "view": {"state": {"values": {"b": {"a": {}}}}}},
        {"type": "view_closed", "view": {}},
        {"type": "event_callback", "event": {"type": "app_home_opened"}},
        {"type": "url_verification", "challenge": "x"},
    ]
    assert [malformed(body) for body in usual] == [None] * len(usual)
