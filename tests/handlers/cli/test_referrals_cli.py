"""`csp-bot keys|audit|referrals ...` as an operator runs them (typer's CliRunner).

The ``settings`` fixture puts the same DATABASE_URL and keys in the environment,
so the CLI opens the database the ``ctx`` fixture migrated.
"""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner, Result

from bot.context import AppContext
from bot.ids import Ids
from bot.plan.members import ensure_partnership, resolve_actor
from bot.referrals import crypto, workflow
from bot.referrals.form import validate_referral_form
from bot.referrals.records import create_referral
from handlers.cli.main import app as cli_app
from store.db import session_scope
from store.models import AuditRecord, Referral
from tests.conftest import FERNET_KEY

MARKER = "Qzclimarkerqz"
NOW = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli_app, list(args))


def _raise_referral(ctx: AppContext, *, close: bool = False) -> str:
    crypto.configure(ctx.settings.encryption_keys)
    form = validate_referral_form(
        {
            str(Ids.REFERRAL_GROUP): "adult",
            str(Ids.REFERRAL_CATEGORY): "financial",
            str(Ids.REFERRAL_URGENCY): "routine",
            str(Ids.REFERRAL_SUBJECT_NAME): f"{MARKER} Name",
            str(Ids.REFERRAL_WHAT): f"{MARKER} what",
            str(Ids.REFERRAL_HOW_KNOWN): "told",
            str(Ids.REFERRAL_REFERRER_ROLE): "Officer",
            str(Ids.REFERRAL_REFERRER_AGENCY): "Council",
            str(Ids.REFERRAL_REFERRER_CONTACT): "01234 567890",
            str(Ids.REFERRAL_CONSENT): "given",
        },
        today=NOW.date(),
    )
    with session_scope(ctx.sessions) as s:
        p = ensure_partnership(s, ctx.settings, now=NOW)
        s.flush()
        member = resolve_actor(s, p, "UMEMBER", now=NOW, settings=ctx.settings)
        lead = resolve_actor(s, p, "ULEAD", now=NOW, settings=ctx.settings)
        made = create_referral(s, p, member, form, submission_key="cli", now=NOW)
        workflow.add_note(s, p, lead, made.reference, f"{MARKER} note", now=NOW)
        if close:
            workflow.close(s, p, lead, made.reference, "Resolved", now=NOW)
    return made.reference


def _audit(ctx: AppContext) -> list[tuple[str, str, str | None]]:
    with session_scope(ctx.sessions) as s:
        rows = s.execute(
            select(AuditRecord.action, AuditRecord.actor, AuditRecord.referral_reference).order_by(
                AuditRecord.id
            )
        )
        return [(r.action, r.actor, r.referral_reference) for r in rows]


def test_keys_generate_prints_a_working_key(ctx: AppContext) -> None:
    done = run("keys", "generate")
    assert done.exit_code == 0, done.output
    key = done.stdout.strip()
    assert crypto.Cipher([key]).decrypt_json(crypto.Cipher([key]).encrypt_json({"a": 1})) == {
        "a": 1
    }
    assert run("keys", "generate").stdout.strip() != key


def test_keys_rotate_re_encrypts_under_the_newest_key_and_is_audited(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    _raise_referral(ctx)
    new = crypto.generate_key()
    monkeypatch.setenv("CSP_ENCRYPTION_KEY", f"{new},{FERNET_KEY}")
    done = run("keys", "rotate")
    assert done.exit_code == 0, done.output
    assert "Re-encrypted 6 referral fields" in done.stdout
    assert MARKER not in done.output
    only_new = crypto.Cipher([new])
    with session_scope(ctx.sessions) as s:
        row = s.scalars(select(Referral)).one()
        assert only_new.decrypt_json(row.subject_enc or b"")["name"] == f"{MARKER} Name"
        assert not crypto.Cipher([FERNET_KEY]).can_decrypt(row.subject_enc or b"")
    assert _audit(ctx)[-1][0] == "rotate_keys"
    assert _audit(ctx)[-1][1].startswith("cli:")

    # A key that opens nothing: one clear sentence, no traceback, nothing changed.
    monkeypatch.setenv("CSP_ENCRYPTION_KEY", crypto.generate_key())
    refused = run("keys", "rotate")
    assert refused.exit_code != 0
    assert "CSP_ENCRYPTION_KEY" in refused.output and "Traceback" not in refused.output
    with session_scope(ctx.sessions) as s:
        assert only_new.can_decrypt(s.scalars(select(Referral.subject_enc)).one() or b"")


def test_audit_verify_reports_intact_and_tampered_chains(ctx: AppContext) -> None:
    _raise_referral(ctx)
    done = run("audit", "verify")
    assert done.exit_code == 0, done.output
    assert "intact (2 records)" in done.stdout
    assert _audit(ctx)[-1][0] == "audit_verify"
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE audit_record SET detail = 'edited' WHERE id = 1"))
    broken = run("audit", "verify")
    assert broken.exit_code == 1
    assert "Audit record 1 was changed" in broken.output
    assert _audit(ctx)[-1][0] == "audit_verify"


def test_referrals_purge_removes_details_past_retention_and_audits(ctx: AppContext) -> None:
    reference = _raise_referral(ctx, close=True)
    early = run("referrals", "purge", "--now", "2027-01-01T09:00+00:00")
    assert early.exit_code == 0, early.output
    assert "nothing was purged" in early.stdout
    done = run("referrals", "purge", "--now", "2033-01-01T09:00+00:00")
    assert done.exit_code == 0, done.output
    assert "1 referral past" in done.stdout
    with session_scope(ctx.sessions) as s:
        row = s.scalars(select(Referral)).one()
        assert row.subject_enc is None and row.purged_at is not None
    action, actor, ref = _audit(ctx)[-1]
    assert (action, ref) == ("purge", reference) and actor.startswith("cli:")
    bad = run("referrals", "purge", "--now", "next tuesday")
    assert bad.exit_code == 2 and "ISO-8601" in bad.output


def test_referrals_export_refuses_non_leads_and_writes_a_private_file(
    ctx: AppContext, tmp_path: Path
) -> None:
    reference = _raise_referral(ctx)
    out = tmp_path / "export.json"

    refused = run("referrals", "export", reference, "--as", "UMEMBER", "--output", str(out))
    assert refused.exit_code == 1
    assert "not a safeguarding lead or an admin" in refused.output
    assert MARKER not in refused.output and not out.exists()
    assert _audit(ctx)[-1] == ("denied_export", "UMEMBER", reference)

    out.write_text("old")
    out.chmod(0o644)  # a wider file left behind must not stay wide
    done = run("referrals", "export", reference, "--as", "ULEAD", "--output", str(out))
    assert done.exit_code == 0, done.output
    assert MARKER not in done.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    record = json.loads(out.read_text())
    assert record["reference"] == reference
    assert record["subject"]["name"] == f"{MARKER} Name"
    assert record["notes"][0]["text"] == f"{MARKER} note"
    assert _audit(ctx)[-1] == ("export", "ULEAD", reference)

    fresh = tmp_path / "admin.json"
    by_admin = run("referrals", "export", reference, "--as", "UADMIN", "--output", str(fresh))
    assert by_admin.exit_code == 0, by_admin.output
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert _audit(ctx)[-1] == ("export", "UADMIN", reference)

    missing = run("referrals", "export", "SG-2026-0999", "--as", "ULEAD")
    assert missing.exit_code == 1
    assert "no referral with that reference" in missing.output
    assert "Traceback" not in missing.output
