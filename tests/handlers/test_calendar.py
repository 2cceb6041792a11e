"""The calendar feed served by `csp-bot serve`, and `/csp calendar` in Slack."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator

import icalendar
import pytest

from bot.context import AppContext
from bot.plan.feed import ensure_secret, rotate_secret
from bot.plan.members import Actor, ensure_partnership
from bot.referrals import crypto
from bot.referrals.form import ReferralForm
from bot.referrals.records import create_referral
from handlers.app import build_app, make_client
from handlers.calendar import feed_responder
from handlers.server import start_http_server
from store.db import session_scope
from store.models import Role
from tests.conftest import NOW
from tests.fakes.slack import FakeSlack
from tests.handlers.test_http import csp, words

PUBLIC = "https://csp.example.org"
MARKER = "Qzmarkerqz"


@pytest.fixture
def served(seeded_ctx: AppContext, fake_slack: FakeSlack) -> Iterator[str]:
    """`csp-bot serve` with its calendar feed, on a free port."""
    app = build_app(seeded_ctx, client=make_client(seeded_ctx.settings))
    server = start_http_server(app, calendar=feed_responder(seeded_ctx))
    try:
        yield server.url
    finally:
        server.stop()


def get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers.get("Content-Type", "")


def _secret(ctx: AppContext, *, rotate: bool = False) -> str:
    with session_scope(ctx.sessions) as session:
        partnership = ensure_partnership(session, ctx.settings, now=NOW)
        return rotate_secret(partnership) if rotate else ensure_secret(partnership)


def test_a_subscriber_gets_the_feed_at_its_secret_path(served: str, seeded_ctx: AppContext) -> None:
    status, body, kind = get(f"{served}/calendar/{_secret(seeded_ctx)}.ics")
    assert status == 200 and kind.startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(body)
    assert calendar.walk("VEVENT") and calendar.walk("VTIMEZONE")
    assert get(f"{served}/healthz")[0] == 200  # the health check is still there


@pytest.mark.parametrize(
    "path",
    [
        "/calendar/{wrong}.ics",
        "/calendar/{secret}",
        "/calendar/{secret}.ics/extra",
        "/calendar/.ics",
        "/calendar/",
        "/calendar/{secret}.ICS",
        "/calendar/../healthz",
        "/anything",
    ],
)
def test_any_other_path_or_secret_is_not_found(
    served: str, seeded_ctx: AppContext, path: str
) -> None:
    secret = _secret(seeded_ctx)
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    status, body, _ = get(served + path.format(secret=secret, wrong=wrong))
    assert status == 404 and b"BEGIN:VCALENDAR" not in body


def test_rotating_the_secret_stops_the_old_link(served: str, seeded_ctx: AppContext) -> None:
    old = _secret(seeded_ctx)
    assert get(f"{served}/calendar/{old}.ics")[0] == 200
    new = _secret(seeded_ctx, rotate=True)
    assert new != old
    assert get(f"{served}/calendar/{old}.ics")[0] == 404
    assert get(f"{served}/calendar/{new}.ics")[0] == 200


def test_no_referral_data_is_ever_in_the_feed(
    served: str, seeded_ctx: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    crypto.configure(seeded_ctx.settings.encryption_keys)
    form = ReferralForm.model_validate(
        {
            "subject_group": "child",
            "category": "neglect",
            "urgency": "immediate",
            "subject_name": f"{MARKER} Child",
            "what_happened": f"{MARKER} happened",
            "how_known": MARKER,
            "referrer_role": "R",
            "referrer_agency": "A",
            "referrer_contact": "C",
            "consent": "given",
        }
    )
    with session_scope(seeded_ctx.sessions) as session:
        partnership = ensure_partnership(session, seeded_ctx.settings, now=NOW)
        made = create_referral(
            session,
            partnership,
            Actor("UMEMBER", Role.MEMBER, None),
            form,
            submission_key="k",
            now=NOW,
        )
        reference = made.summary.reference
    secret = _secret(seeded_ctx)
    with caplog.at_level(logging.DEBUG):
        status, body, _ = get(f"{served}/calendar/{secret}.ics")
    assert status == 200
    for needle in (MARKER, reference, "neglect", "Neglect", "referral"):
        assert needle.encode() not in body
    assert secret not in caplog.text  # nor is the secret written to the log


def test_csp_calendar_tells_a_member_the_link(
    served: str, seeded_ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seeded_ctx.settings, "public_url", PUBLIC)
    reply = csp(served, fake_slack, "calendar", user="UMEMBER")
    assert reply["response_type"] == "ephemeral"
    link = f"{PUBLIC}/calendar/{_secret(seeded_ctx)}.ics"
    assert link in reply["text"] and link in words(reply)
    assert "Subscribe from web" in words(reply) and "From URL" in words(reply)
    path = link.removeprefix(PUBLIC)
    assert get(served + path)[0] == 200


def test_csp_calendar_without_a_public_address_says_what_to_ask(
    served: str, fake_slack: FakeSlack
) -> None:
    reply = csp(served, fake_slack, "calendar", user="UMEMBER")
    assert reply["response_type"] == "ephemeral"
    assert "CSP_PUBLIC_URL" in reply["text"] and "admin" in reply["text"]
    assert "/calendar/" not in json.dumps(reply)


def test_csp_calendar_takes_nothing_after_it(served: str, fake_slack: FakeSlack) -> None:
    reply = csp(served, fake_slack, "calendar please", user="UMEMBER")
    assert "takes nothing after it" in words(reply)


def test_a_subscriber_with_the_current_copy_is_told_not_modified(
    served: str, seeded_ctx: AppContext
) -> None:
    url = f"{served}/calendar/{_secret(seeded_ctx)}.ics"
    with urllib.request.urlopen(url, timeout=10) as response:
        etag = response.headers["ETag"]
    assert etag
    request = urllib.request.Request(url, headers={"If-None-Match": etag})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 304
    stale = urllib.request.Request(url, headers={"If-None-Match": '"other"'})
    with urllib.request.urlopen(stale, timeout=10) as response:
        assert response.status == 200 and response.read().startswith(b"BEGIN:VCALENDAR")
