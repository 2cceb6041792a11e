"""Typed progress saved in batches: answered as one at a time, saved once, none on a busy lock."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from sqlalchemy import select

import handlers.progress_batch as progress_batch
from bot.context import AppContext
from store.db import session_scope
from store.models import ProgressEntry
from tests.dbutil import on_postgres
from tests.fakes.slack import FakeSlack, slash_command
from tests.handlers.test_busy_database import held_lock
from tests.handlers.test_http import post

pytestmark = pytest.mark.skipif(on_postgres(), reason="batches are for SQLite's one writer")


def _notes(ctx: AppContext, like: str) -> list[str]:
    with session_scope(ctx.sessions) as session:
        return list(
            session.scalars(select(ProgressEntry.note).where(ProgressEntry.note.like(like))).all()
        )


def _at_once(url: str, texts: list[str]) -> list[tuple[int, dict[str, Any]]]:
    """Each text typed by a different person at the same moment; the answers, in order."""
    answers: list[tuple[int, dict[str, Any]]] = [(0, {})] * len(texts)
    start = threading.Barrier(len(texts))

    def person(n: int) -> None:
        body = slash_command(texts[n], user_id=f"U0TYPIST{n}")
        start.wait()
        status, reply = post(url, body)
        answers[n] = (status, json.loads(reply))

    people = [threading.Thread(target=person, args=(n,)) for n in range(len(texts))]
    for p in people:
        p.start()
    for p in people:
        p.join()
    return answers


def test_many_people_logging_at_once_are_each_answered_and_saved_once(
    slack_http: str, seeded_ctx: AppContext
) -> None:
    texts = [f"progress dhr green Panel met, update {n} of 12" for n in range(12)]
    answers = _at_once(slack_http, texts)
    assert all(status == 200 for status, _ in answers)
    assert all("Progress logged" in reply["text"] for _, reply in answers)
    assert sorted(_notes(seeded_ctx, "Panel met, update %")) == sorted(
        f"Panel met, update {n} of 12" for n in range(12)
    )


def test_the_batched_answer_is_the_one_at_a_time_answer(
    slack_http: str, seeded_ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, first = post(slack_http, slash_command("progress dhr amber Panel booked"))
    monkeypatch.setattr(progress_batch, "writer_for", lambda ctx: None)  # one at a time
    _, second = post(slack_http, slash_command("progress dhr amber Panel booked again"))
    batched, single = json.loads(first), json.loads(second)
    assert batched["text"] == single["text"]
    assert json.dumps(batched["blocks"]).replace("Panel booked", "Panel booked again") == (
        json.dumps(single["blocks"])
    )


def test_people_logging_at_once_on_a_locked_database_are_told_nothing_was_saved(
    slack_http: str, fake_slack: FakeSlack, seeded_ctx: AppContext
) -> None:
    texts = [f"progress dhr red Locked out, try {n}" for n in range(6)]
    with held_lock(seeded_ctx):
        answers = _at_once(slack_http, texts)
    for status, reply in answers:
        assert status == 200
        assert "nothing was saved" in reply["text"] and "try again in a minute" in reply["text"]
    assert _notes(seeded_ctx, "Locked out, try %") == []


def test_people_new_to_the_partnership_are_made_members_with_their_entries(
    slack_http: str, seeded_ctx: AppContext
) -> None:
    from sqlalchemy import event

    from store.models import Member

    member_writes: list[str] = []

    @event.listens_for(seeded_ctx.engine, "before_cursor_execute")
    def _seen(_c: object, _cur: object, statement: str, *_a: object) -> None:
        if statement.lstrip().upper().startswith(("INSERT INTO MEMBER", "UPDATE MEMBER")):
            member_writes.append(statement)

    try:
        texts = [f"progress prevent amber First time here, {n}" for n in range(12)]
        answers = _at_once(slack_http, texts)
    finally:
        event.remove(seeded_ctx.engine, "before_cursor_execute", _seen)
    assert all(status == 200 and "Progress logged" in r["text"] for status, r in answers)
    with session_scope(seeded_ctx.sessions) as session:
        members = {
            m.slack_user_id: m
            for m in session.scalars(
                select(Member).where(Member.slack_user_id.like("U0TYPIST%"))
            ).all()
        }
        entries = session.scalars(
            select(ProgressEntry).where(ProgressEntry.note.like("First time here, %"))
        ).all()
    assert sorted(members) == sorted(f"U0TYPIST{n}" for n in range(12))
    assert all(
        m.role == "member" and m.display_name == m.slack_user_id.lower() for m in members.values()
    )
    assert sorted(e.slack_user_id or "" for e in entries) == sorted(members)
    # Made by the batches that saved the entries (a few statements), not one by one.
    assert 1 <= len(member_writes) < 12
    # Once members, they are answered as before, and nothing is made twice.
    status, reply = post(
        slack_http, slash_command("progress prevent green Again", user_id="U0TYPIST3")
    )
    assert status == 200 and "Progress logged" in json.loads(reply)["text"]
    with session_scope(seeded_ctx.sessions) as session:
        count = len(
            session.scalars(select(Member).where(Member.slack_user_id == "U0TYPIST3")).all()
        )
    assert count == 1


def test_someone_made_a_member_by_a_batch_is_known_on_their_next_update(
    slack_http: str, seeded_ctx: AppContext
) -> None:
    from sqlalchemy import event

    first = slash_command("progress prevent amber My first update", user_id="U0NEWCOMER")
    status, reply = post(slack_http, first)
    assert status == 200 and "Progress logged" in json.loads(reply)["text"]
    member_reads: list[str] = []

    @event.listens_for(seeded_ctx.engine, "before_cursor_execute")
    def _seen(_c: object, _cur: object, statement: str, *_a: object) -> None:
        if " member" in statement.lower() and statement.lstrip().upper().startswith("SELECT"):
            member_reads.append(statement)

    try:
        again = slash_command("progress prevent green My second update", user_id="U0NEWCOMER")
        status, reply = post(slack_http, again)
    finally:
        event.remove(seeded_ctx.engine, "before_cursor_execute", _seen)
    assert status == 200 and "Progress logged" in json.loads(reply)["text"]
    assert member_reads == []  # the batch that made them a member said who they are
    assert sorted(_notes(seeded_ctx, "My % update")) == ["My first update", "My second update"]
