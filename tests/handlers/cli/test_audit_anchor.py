"""`csp-bot audit verify` prints the chain's head and, given the head an operator kept,
detects that the newest records were removed; the chain is keyed, so it cannot be
rebuilt without the key."""

from __future__ import annotations

import re

from sqlalchemy import text

from bot.context import AppContext
from bot.referrals import audit
from store.db import session_scope
from tests.handlers.cli.test_referrals_cli import _raise_referral, run

HEAD = re.compile(r"--expect (\d+):([0-9a-f]{64})")


def test_verify_prints_the_head_and_detects_deleted_newest_records(ctx: AppContext) -> None:
    _raise_referral(ctx)  # create + note: 2 records
    first = run("audit", "verify")
    assert first.exit_code == 0, first.output
    found = HEAD.search(first.stdout)
    assert found, first.stdout
    count, head = int(found.group(1)), found.group(2)
    assert count == 3  # the verify run audits itself, and its record is the head it prints
    again = run("audit", "verify", "--expect", f"{count}:{head}")
    assert again.exit_code == 0, again.output
    assert "matches the head you kept" in again.stdout
    # Someone with a SQL client removes the newest records (the two verify runs).
    with ctx.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_record WHERE id >= 3"))
    plain = run("audit", "verify")
    assert plain.exit_code == 0  # without the kept head, truncation cannot be seen
    with ctx.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_record WHERE id >= 3"))
    cut = run("audit", "verify", "--expect", f"{count}:{head}")
    assert cut.exit_code == 1, cut.output
    assert "removed" in cut.output and f"{count}" in cut.output


def test_a_bad_expect_value_is_one_sentence(ctx: AppContext) -> None:
    bad = run("audit", "verify", "--expect", "three:abc")
    assert bad.exit_code != 0
    assert "COUNT:HASH" in bad.output and "Traceback" not in bad.output


def test_a_record_rewritten_without_the_key_does_not_verify(ctx: AppContext) -> None:
    _raise_referral(ctx)
    with session_scope(ctx.sessions) as s:
        row = s.execute(text("SELECT * FROM audit_record WHERE id = 2")).mappings().one()
    # Rewrite record 2 with a hash recomputed the unkeyed (pre-upgrade) way.
    forged = audit.compute_hash(
        row["prev_hash"],
        partnership_id=row["partnership_id"],
        at=audit_time(row["at"]),
        actor="UEVIL",
        action=row["action"],
        reference=row["referral_reference"],
        detail=row["detail"],
    )
    with ctx.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE audit_record SET actor = 'UEVIL', hash = :h, hash_scheme = 'sha256' "
                "WHERE id = 2"
            ),
            {"h": forged},
        )
    broken = run("audit", "verify")
    assert broken.exit_code == 1
    assert "Audit record 2" in broken.output


def audit_time(value: object):  # type: ignore[no-untyped-def]
    import datetime as dt

    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
