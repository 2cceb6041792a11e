"""No exception raised from a referral code path carries what was typed into it.

Each case checks ``str(exc)``, ``repr(exc)`` and the whole formatted traceback
(causes and contexts included), and the app-level cases also check every log
line (DEBUG, third-party loggers included, tracebacks rendered).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import logging
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from slack_bolt import App
from slack_bolt.request import BoltRequest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import handlers.listeners
import handlers.referrals
from bot.context import AppContext
from bot.errors import UserError
from bot.ids import Ids
from bot.plan.members import Actor
from bot.referrals import crypto, reading, records
from bot.referrals.form import FIELD_BLOCKS, FormInvalid, ReferralForm, validate_referral_form
from bot.referrals.reading import export_referral
from bot.referrals.records import create_referral
from bot.referrals.workflow import add_note
from handlers.referrals import lead_actions
from store.db import make_engine
from store.models import Base, Member, Partnership, Referral, Role
from tests.fakes.slack import FakeSlack, block_action, signed_request, view_submission
from tests.handlers.referrals.test_leaks import good_values, values

MARKER = "Qzexcmarkerqz"
NOW = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)
KEY = crypto.generate_key()
LEAD = Actor("ULEAD", Role.LEAD, "Lead")
MEMBER = Actor("UMEMBER", Role.MEMBER, "Member")


def assert_clean(exc: BaseException) -> None:
    """Neither the exception nor anything chained to it shows the marker."""
    rendered = "".join(traceback.format_exception(exc))
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        assert MARKER not in str(current), type(current).__name__
        assert MARKER not in repr(current), type(current).__name__
        assert MARKER not in repr(current.args), type(current).__name__
        current = current.__cause__ or current.__context__
    assert MARKER not in rendered


def raised(call: Callable[[], object]) -> BaseException:
    try:
        call()
    except Exception as exc:
        return exc
    raise AssertionError("expected an exception")


def marked_raw() -> dict[str, object]:
    return {block: f"{MARKER} {block}" for block in FIELD_BLOCKS.values()}


def test_validation_failures_never_repeat_the_input() -> None:
    today = dt.date(2026, 11, 26)
    cases: list[dict[str, object]] = [
        marked_raw(),  # every choice and the date are nonsense containing the marker
        {**marked_raw(), str(Ids.REFERRAL_WHAT): MARKER * 400},  # too long
        {**marked_raw(), str(Ids.REFERRAL_DOB): "2099-01-01"},
        {str(Ids.REFERRAL_SUBJECT_NAME): MARKER},  # almost everything missing
    ]
    for raw in cases:
        exc = raised(functools.partial(validate_referral_form, raw, today=today))
        assert isinstance(exc, FormInvalid)
        assert_clean(exc)
        assert MARKER not in json.dumps(exc.errors)


def test_pydantic_errors_hide_the_input() -> None:
    data = {
        "subject_group": MARKER,
        "category": MARKER,
        "urgency": MARKER,
        "subject_name": MARKER * 50,
        "subject_dob": MARKER,
        "what_happened": MARKER * 400,
        "how_known": MARKER * 100,
        "referrer_role": MARKER * 20,
        "referrer_agency": "",
        "referrer_contact": MARKER * 30,
        "consent": MARKER,
    }
    exc = raised(lambda: ReferralForm.model_validate(data))
    assert isinstance(exc, ValidationError)
    assert_clean(exc)
    assert MARKER not in json.dumps(exc.errors(include_input=False, include_url=False), default=str)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    crypto.configure([KEY])
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def _partnership(session: Session) -> Partnership:
    p = Partnership(
        name="P", plan_year=2026, settings={}, referral_seq=0, created_at=NOW,
        safeguarding_channel="C0SAFE",
    )  # fmt: skip
    session.add(p)
    session.flush()
    for actor in (LEAD, MEMBER):
        session.add(
            Member(
                partnership_id=p.id,
                slack_user_id=actor.slack_user_id,
                role=actor.role,
                created_at=NOW,
            )
        )
    session.flush()
    return p


def _form() -> ReferralForm:
    return validate_referral_form(
        {
            str(Ids.REFERRAL_GROUP): "child",
            str(Ids.REFERRAL_CATEGORY): "neglect",
            str(Ids.REFERRAL_URGENCY): "routine",
            str(Ids.REFERRAL_SUBJECT_NAME): f"{MARKER} Name",
            str(Ids.REFERRAL_WHAT): f"{MARKER} what",
            str(Ids.REFERRAL_HOW_KNOWN): f"{MARKER} how",
            str(Ids.REFERRAL_REFERRER_ROLE): f"{MARKER} role",
            str(Ids.REFERRAL_REFERRER_AGENCY): f"{MARKER} agency",
            str(Ids.REFERRAL_REFERRER_CONTACT): f"{MARKER}@example.org",
            str(Ids.REFERRAL_CONSENT): "given",
        },
        today=NOW.date(),
    )


def test_decrypting_with_a_wrong_key_says_so_without_contents(session: Session) -> None:
    p = _partnership(session)
    made = create_referral(session, p, MEMBER, _form(), submission_key="k", now=NOW)
    add_note(session, p, LEAD, made.reference, f"{MARKER} note", now=NOW)
    wrong = crypto.Cipher([crypto.generate_key()])
    for call in (
        lambda: reading.view(session, p, LEAD, made.reference, now=NOW, cipher=wrong),
        lambda: export_referral(session, p, LEAD, made.reference, now=NOW, cipher=wrong),
    ):
        exc = raised(call)
        assert isinstance(exc, UserError) and "CSP_ENCRYPTION_KEY" in str(exc)
        assert_clean(exc)
    row = session.scalars(select(Referral)).one()
    assert row.subject_enc is not None
    for exc in (raised(lambda: wrong.decrypt_json(row.subject_enc or b"")),
                raised(lambda: wrong.rotate(row.subject_enc or b""))):  # fmt: skip
        assert isinstance(exc, crypto.DecryptError)
        assert_clean(exc)


def test_integrity_errors_carry_only_ciphertext(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = _partnership(session)
    made = create_referral(session, p, MEMBER, _form(), submission_key="a", now=NOW)
    # Two creators racing for the same number: the second insert breaks the unique key.
    monkeypatch.setattr(records, "_next_reference", lambda *_a, **_k: made.reference)
    with session.begin_nested():
        exc = raised(
            lambda: create_referral(session, p, MEMBER, _form(), submission_key="b", now=NOW)
        )
    assert isinstance(exc, IntegrityError)
    assert_clean(exc)


# --------------------------------------------------------------------------- the app


@pytest.fixture
def app(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> App:
    from handlers.app import build_app

    monkeypatch.setattr(handlers.listeners, "LISTENERS", (handlers.referrals.register,))
    return build_app(ctx, process_before_response=True)


@pytest.fixture
def all_logs() -> Iterator[io.StringIO]:
    """Every log record at DEBUG, from every logger, tracebacks rendered."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    loggers = [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    saved = [(lg, lg.level) for lg in loggers]
    old_root = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for lg, _ in saved:
        lg.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(old_root)
        for lg, level in saved:
            lg.setLevel(level)


def send(app: App, body: dict[str, str]) -> str:
    headers, raw = signed_request(body)
    resp = app.dispatch(BoltRequest(body=raw, headers={k: [v] for k, v in headers.items()}))
    assert resp.status == 200, resp.body
    return resp.body


def test_slack_and_database_failures_in_the_app_log_no_contents(
    app: App, fake_slack: FakeSlack, all_logs: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Alerting fails (channel gone), then the receipt DM fails (HTTP 500).
    fake_slack.fail_next("chat.postMessage", error="channel_not_found")
    fake_slack.fail_next("chat.postMessage", status=500)
    body = send(app, view_submission(Ids.REFERRAL_MODAL, good_values(MARKER), user_id="UMEMBER"))
    assert json.loads(body)["response_action"] == "update"
    reference = "SG-2026-0001"
    # The lead's detail view is refused by Slack.
    fake_slack.fail_next("views.open", error="invalid_arguments")
    send(app, block_action(Ids.REFERRAL_VIEW, reference, user_id="ULEAD", channel_id="C0SAFE"))
    fake_slack.fail_next("views.open", status=500)
    send(app, block_action(Ids.REFERRAL_VIEW, reference, user_id="ULEAD", channel_id="C0SAFE"))
    # A database refusal while storing a second referral (a racing reference number).
    monkeypatch.setattr(records, "_next_reference", lambda *_a, **_k: reference)
    body = send(
        app,
        view_submission(
            Ids.REFERRAL_MODAL, good_values(MARKER), user_id="UMEMBER", view_id="V0SECOND"
        ),
    )
    answer = json.loads(body)
    assert answer["response_action"] == "errors" and MARKER not in body
    # An unexpected failure inside a listener reaches the app's error handler,
    # which logs its traceback.

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("the note store is unavailable")

    monkeypatch.setattr(lead_actions, "add_note", boom)
    note = values(**{Ids.REFERRAL_NOTE: f"{MARKER} note"})
    send(
        app,
        view_submission(
            Ids.REFERRAL_ACTION_MODAL, note, user_id="ULEAD", private_metadata=reference
        ),
    )
    logged = all_logs.getvalue()
    assert "channel_not_found" in logged or "alert for" in logged  # the failures were logged
    assert "Traceback" in logged  # ...including a rendered traceback
    assert MARKER not in logged
    for call in fake_slack.calls:
        if call.method == "views.open":
            continue  # the lead's detail view (refused by the fake here)
        assert MARKER not in json.dumps(call.args, ensure_ascii=False), call.method
