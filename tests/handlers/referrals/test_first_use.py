"""Problems a first-time user met: where alerts go, whose submission is whose, what
a lead who refers is told, what a member is told, the CLI's guidance, and how typed
text is shown to a lead."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from sqlalchemy import select, update
from typer.testing import CliRunner, Result

import handlers.listeners
import handlers.referrals
from bot.context import AppContext
from bot.ids import Ids
from bot.plan.members import Actor, ensure_partnership
from bot.referrals import crypto, reading
from bot.referrals.access import NotALead
from bot.referrals.escalation import escalation_source
from bot.referrals.form import TEXT_FIELDS, ReferralForm
from bot.referrals.kinds import ALERT_DM_KIND
from bot.referrals.readiness import safeguarding_readiness
from bot.referrals.reading import list_open
from bot.referrals.records import create_referral
from bot.referrals.vocabulary import AlertRoute
from bot.referrals.workflow import add_note
from bot.settings import Settings
from bot.slack.referral_detail import build_detail_view
from bot.text.mrkdwn import esc
from handlers.cli.main import app as cli_app
from store.db import session_scope
from store.models import AuditRecord, Delivery, DeliveryStatus, Member, Referral, Role
from tests.fakes.slack import FakeSlack, signed_request, view_submission
from tests.handlers.referrals.test_leaks import good_values, values

NOW = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)


def _app(ctx: AppContext, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> App:
    from handlers.app import build_app

    if settings:
        ctx.settings = ctx.settings.model_copy(update=settings)
    monkeypatch.setattr(handlers.listeners, "LISTENERS", (handlers.referrals.register,))
    return build_app(ctx, process_before_response=True)


def send(app: App, body: dict[str, str]) -> tuple[int, str]:
    headers, raw = signed_request(body)
    resp = app.dispatch(BoltRequest(body=raw, headers={k: [v] for k, v in headers.items()}))
    return resp.status, resp.body


def refer(app: App, user: str, view_id: str = "V0SUBMIT") -> dict[str, Any]:
    status, body = send(
        app, view_submission(Ids.REFERRAL_MODAL, good_values(), user_id=user, view_id=view_id)
    )
    assert status == 200, body
    answer: dict[str, Any] = json.loads(body)
    return answer


def dms_to(fake: FakeSlack, user: str) -> list[str]:
    """Texts posted to ``user`` by DM: to the user ID, or to their DM channel (opened by
    conversations.open, as alerts are, so the outbox can find them in its history)."""
    return [
        c.args["text"]
        for c in fake.calls_to("chat.postMessage")
        if c.args["channel"] in (user, "D" + user)
    ]


# --------------------------------------------------------------------------- 1. alerts


def test_no_channel_alerts_every_lead_by_dm_and_the_receipt_says_so(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(ctx, monkeypatch, safeguarding_channel=None, safeguarding_leads=["ULEAD", "ULEAD2"])
    answer = refer(app, "UMEMBER")
    assert "by direct message" in json.dumps(answer["view"])
    posts = fake_slack.calls_to("chat.postMessage")
    channels = [c.args["channel"] for c in posts]
    assert sorted(channels) == ["DULEAD", "DULEAD2", "DUMEMBER"]
    for lead in ("ULEAD", "ULEAD2"):
        (alert,) = [c for c in posts if c.args["channel"] == "D" + lead]
        assert "SG-2026-0001" in alert.args["text"]
        assert "Qzmarkerqz" not in json.dumps(alert.args)
        actions = {
            e["action_id"]
            for b in alert.args["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
        }
        assert actions == {str(Ids.REFERRAL_ACK), str(Ids.REFERRAL_VIEW), str(Ids.REFERRAL_ASSIGN)}
        assert alert.args["metadata"]["event_payload"]["key"].startswith("refalertdm:")
    (receipt,) = dms_to(fake_slack, "UMEMBER")
    assert "alerted by direct message" in receipt and "channel" not in receipt
    with session_scope(ctx.sessions) as s:
        rows = s.scalars(select(Delivery).where(Delivery.kind == ALERT_DM_KIND)).all()
        assert sorted(r.target for r in rows) == ["ULEAD", "ULEAD2"]
        assert all(r.status == DeliveryStatus.SENT for r in rows)
        # The sweep's source proposes the same keys: they are not sent twice.
        p = ensure_partnership(s, ctx.settings, now=NOW)
        planned = [d for d in escalation_source(s, p, NOW) if d.kind == ALERT_DM_KIND]
        assert {d.key for d in planned} <= {r.key for r in rows}


def test_channel_receipt_says_channel(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(ctx, monkeypatch)
    refer(app, "UMEMBER")
    (receipt,) = dms_to(fake_slack, "UMEMBER")
    assert "alerted in the safeguarding channel" in receipt
    assert not dms_to(fake_slack, "ULEAD")


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
def test_channel_refusing_the_alert_falls_back_to_dms(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, error: str
) -> None:
    app = _app(ctx, monkeypatch)
    fake_slack.fail_next("chat.postMessage", error=error)
    refer(app, "UMEMBER")
    assert len(dms_to(fake_slack, "ULEAD")) == 1
    (receipt,) = dms_to(fake_slack, "UMEMBER")
    assert "alerted by direct message" in receipt
    with session_scope(ctx.sessions) as s:
        channel_row = s.scalars(select(Delivery).where(Delivery.kind == "referral_alert")).one()
        assert channel_row.status == DeliveryStatus.FAILED and error in (
            channel_row.last_error or ""
        )


def test_a_transient_channel_failure_is_not_called_delivered(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(ctx, monkeypatch)
    fake_slack.fail_next("chat.postMessage", status=500)
    refer(app, "UMEMBER")
    (receipt,) = dms_to(fake_slack, "UMEMBER")
    assert "not gone through yet" in receipt and "have been alerted" not in receipt


def test_no_leads_at_all_tells_the_referrer_to_phone_and_the_admins(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(ctx, monkeypatch, safeguarding_channel=None, safeguarding_leads=[])
    answer = refer(app, "UMEMBER")
    assert "by phone now" in json.dumps(answer["view"])
    (receipt,) = dms_to(fake_slack, "UMEMBER")
    assert "by phone now" in receipt and "have been alerted" not in receipt
    (notice,) = dms_to(fake_slack, "UADMIN")
    assert "SG-2026-0001" in notice and "nobody is a safeguarding lead" in notice
    assert "Qzmarkerqz" not in notice
    with session_scope(ctx.sessions) as s:
        assert s.scalars(select(Referral)).one().subject_enc is not None
        p = ensure_partnership(s, ctx.settings, now=NOW)
        # Once someone is made a lead, the next sweep alerts them.
        s.add(Member(partnership_id=p.id, slack_user_id="UNEW", role=Role.LEAD, created_at=NOW))
        s.flush()
        planned = [d for d in escalation_source(s, p, NOW) if d.kind == ALERT_DM_KIND]
        assert [d.target for d in planned] == ["UNEW"]


def test_outbox_failed_channel_alert_is_proposed_to_leads(ctx: AppContext) -> None:
    crypto.configure(ctx.settings.encryption_keys)
    with session_scope(ctx.sessions) as s:
        p = ensure_partnership(s, ctx.settings, now=NOW)
        made = create_referral(
            s, p, Actor("UMEMBER", Role.MEMBER, None), _form(), submission_key="k", now=NOW
        )
        assert made.route == AlertRoute.CHANNEL
        assert not [d for d in escalation_source(s, p, NOW) if d.kind == ALERT_DM_KIND]
        row = s.scalars(select(Delivery).where(Delivery.key == made.alerts[0].key)).one()
        row.status = DeliveryStatus.FAILED  # as the outbox leaves it after channel_not_found
        s.flush()
        planned = [d for d in escalation_source(s, p, NOW) if d.kind == ALERT_DM_KIND]
        assert [(d.target, d.key) for d in planned] == [
            ("ULEAD", f"refalertdm:{made.summary.id}:ULEAD")
        ]


def test_safeguarding_readiness_warns_of_each_gap(ctx: AppContext) -> None:
    with session_scope(ctx.sessions) as s:
        p = ensure_partnership(s, ctx.settings, now=NOW)
        assert safeguarding_readiness(ctx.settings, s, p) == []
        bare = Settings.model_validate(
            {
                **ctx.settings.model_dump(),
                "safeguarding_channel": None,
                "safeguarding_leads": [],
                "encryption_key": None,
            }
        )
        s.execute(update(Member).values(role=Role.MEMBER, safeguarding_lead=False))
        p.safeguarding_channel = None  # as the bootstrap stores it from `bare`
        warnings = safeguarding_readiness(bare, s, p)
    assert len(warnings) == 3
    joined = " ".join(warnings)
    for needle in ("CSP_ENCRYPTION_KEY", "CSP_SAFEGUARDING_LEADS", "CSP_SAFEGUARDING_CHANNEL"):
        assert needle in joined


def _form() -> ReferralForm:
    return ReferralForm.model_validate(
        {
            "subject_group": "child",
            "category": "neglect",
            "urgency": "routine",
            "subject_name": "N",
            "what_happened": "W",
            "how_known": "H",
            "referrer_role": "R",
            "referrer_agency": "A",
            "referrer_contact": "C",
            "consent": "given",
        }
    )


# --------------------------------------------------------------------------- 2 and 3


def test_same_view_id_from_two_users_makes_two_referrals_each_with_a_receipt(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(ctx, monkeypatch)
    first = refer(app, "UMEMBER", view_id="VSHELL")
    second = refer(app, "ULEAD", view_id="VSHELL")  # a lead referring, same (shell) view id
    assert "SG-2026-0001" in json.dumps(first["view"])
    assert "SG-2026-0002" in json.dumps(second["view"])
    assert "SG-2026-0001" not in json.dumps(second["view"])
    (lead_receipt,) = [t for t in dms_to(fake_slack, "ULEAD") if t.startswith("Your")]
    assert "SG-2026-0002" in lead_receipt
    with session_scope(ctx.sessions) as s:
        refs = s.scalars(select(Referral).order_by(Referral.id)).all()
        assert [r.referrer_slack_id for r in refs] == ["UMEMBER", "ULEAD"]
    # A Slack retry of the lead's submission is still collapsed, with no second receipt.
    again = refer(app, "ULEAD", view_id="VSHELL")
    assert "SG-2026-0002" in json.dumps(again["view"])
    assert len([t for t in dms_to(fake_slack, "ULEAD") if t.startswith("Your")]) == 1


def test_a_reused_key_from_another_user_never_returns_their_referral(
    ctx: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    crypto.configure(ctx.settings.encryption_keys)
    with session_scope(ctx.sessions) as s:
        p = ensure_partnership(s, ctx.settings, now=NOW)
        a = create_referral(
            s, p, Actor("UA", Role.MEMBER, None), _form(), submission_key="same", now=NOW
        )
        with caplog.at_level("WARNING", logger="bot.referrals.records"):
            b = create_referral(
                s, p, Actor("UB", Role.MEMBER, None), _form(), submission_key="same", now=NOW
            )
        b_again = create_referral(
            s, p, Actor("UB", Role.MEMBER, None), _form(), submission_key="same", now=NOW
        )
    assert b.created and b.reference != a.reference and b.referrer_slack_id == "UB"
    assert not b_again.created and b_again.reference == b.reference
    assert "another submitter" in caplog.text and "UA" not in caplog.text


def test_submission_key_includes_the_user() -> None:
    from handlers.referrals.refer import submission_key

    body = {"user": {"id": "U1"}, "view": {"id": "V1", "hash": "h"}}
    other = {"user": {"id": "U2"}, "view": {"id": "V1", "hash": "h"}}
    assert "U1" in submission_key(body) and submission_key(body) != submission_key(other)


# --------------------------------------------------------------------------- 4


def test_member_listing_referrals_is_told_the_next_step(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    crypto.configure(ctx.settings.encryption_keys)
    with session_scope(ctx.sessions) as s:
        p = ensure_partnership(s, ctx.settings, now=NOW)
        with pytest.raises(NotALead) as refused:
            list_open(s, p, Actor("UMEMBER", Role.MEMBER, None), now=NOW)
        assert s.scalars(select(AuditRecord.action)).all() == ["denied_list"]
    text = str(refused.value)
    assert "safeguarding leads" in text and "`/csp refer`" in text
    assert "`/csp role @you lead`" in text and "admin" in text


# --------------------------------------------------------------------------- 5


def run(*args: str) -> Result:
    return CliRunner().invoke(cli_app, list(args))


def test_keys_generate_guides_on_stderr_only(ctx: AppContext) -> None:
    done = run("keys", "generate")
    assert done.exit_code == 0
    assert len(done.stdout.strip().splitlines()) == 1
    crypto.Cipher([done.stdout.strip()])
    for needle in ("secret store", "Back it up", "unreadable", "CSP_ENCRYPTION_KEY", "first"):
        assert needle in done.stderr


def test_audit_verify_pluralises(ctx: AppContext) -> None:
    from bot.referrals import audit

    with session_scope(ctx.sessions) as s:
        audit.record(
            s, partnership_id=None, actor="t", action="x", reference=None, detail="", now=NOW
        )
        assert audit.verify_chain(s).message.endswith("(1 record).")
    assert "intact (1 record)." in run("audit", "verify").stdout


def test_export_without_as_explains_why(ctx: AppContext) -> None:
    done = run("referrals", "export", "SG-2026-0001")
    assert done.exit_code == 2
    assert "Missing option" not in done.output
    assert "--as" in done.stderr and "audit" in done.stderr and "Slack user ID" in done.stderr


# --------------------------------------------------------------------------- 6

NASTY = "16 & <b>bold</b> <!channel>"


def _texts(obj: Any, kind: str) -> list[str]:
    found: list[str] = []
    if isinstance(obj, dict):
        if obj.get("type") == kind and isinstance(obj.get("text"), str):
            found.append(obj["text"])
        for v in obj.values():
            found += _texts(v, kind)
    elif isinstance(obj, list):
        for v in obj:
            found += _texts(v, kind)
    return found


def test_lead_view_shows_typed_text_verbatim_and_mrkdwn_is_escaped(
    ctx: AppContext, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    crypto.configure(ctx.settings.encryption_keys)
    text_fields = [spec[0] for spec in TEXT_FIELDS.values()]
    vals = good_values()
    vals.update(values(**{str(b): NASTY for b in text_fields}))
    vals.update(values(**{Ids.REFERRAL_CONSENT: "refused"}))
    app = _app(ctx, monkeypatch)
    _, body = send(app, view_submission(Ids.REFERRAL_MODAL, vals, user_id="UMEMBER"))
    assert json.loads(body)["response_action"] == "update", body
    with session_scope(ctx.sessions) as s:
        p = ensure_partnership(s, ctx.settings, now=NOW)
        lead = Actor("ULEAD", Role.LEAD, NASTY)
        add_note(s, p, lead, "SG-2026-0001", NASTY, now=NOW)
        detail = reading.view(s, p, lead, "SG-2026-0001", now=NOW)
    shown = build_detail_view(detail).to_dict()
    plain = _texts(shown, "plain_text")
    # Every typed field (and the note) appears verbatim in a plain_text object.
    assert sum(t.count(NASTY) for t in plain) >= len(text_fields) + 1
    for text in _texts(shown, "mrkdwn"):
        assert "<!channel>" not in text and "<b>" not in text
    # Nothing Slack would send anywhere else carries the text, escaped or not.
    for call in fake_slack.calls:
        dumped = json.dumps(call.args)
        assert "<!channel>" not in dumped and "bold" not in dumped, call.method


def test_esc_escapes_slacks_control_characters() -> None:
    assert esc(NASTY) == "16 &amp; &lt;b&gt;bold&lt;/b&gt; &lt;!channel&gt;"
