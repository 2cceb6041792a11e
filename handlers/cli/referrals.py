"""`csp-bot keys ...`, `csp-bot audit verify`, `csp-bot referrals purge|export`.

The referral modules (the cipher, and cryptography with it) are imported inside the
commands, so the other commands the CLI registers never load them.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from pathlib import Path
from typing import Annotated, Final

import typer

from bot.plan.members import ensure_partnership, resolve_actor
from bot.settings import ConfigError
from bot.text.numbers import plural
from handlers.cli.support import cli_context, fail
from store.db import session_scope

keys_app = typer.Typer(help="Encryption keys for safeguarding referrals.", no_args_is_help=True)
audit_app = typer.Typer(help="The referral audit trail.", no_args_is_help=True)
referrals_app = typer.Typer(help="Safeguarding referrals.", no_args_is_help=True)


def _operator() -> str:
    """Who ran the command, for the audit trail (the operating-system account)."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return f"cli:{name}"[:64]


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable and writable by its owner only.

    The mode is forced even when the file already existed with a wider one, and a
    symbolic link is refused rather than followed.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def _parse_now(value: str | None) -> dt.datetime | None:
    """``--now`` as an aware UTC time (None when not given: the clock's time applies)."""
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        fail(f"--now {value!r} is not an ISO-8601 time (try 2026-11-26T09:00+00:00).")
    if when.tzinfo is None:
        fail("--now needs a time zone (try 2026-11-26T09:00+00:00 or ...Z).")
    return when.astimezone(dt.UTC)


KEY_GUIDANCE: Final = "\n".join(
    [
        "That is a new key for safeguarding referrals; it is shown once and stored nowhere.",
        "- Store it in your secret store or environment file, and set it as CSP_ENCRYPTION_KEY.",
        "- Back it up somewhere safe: losing it makes every stored referral unreadable.",
        "- When rotating, put the new key first and the old ones after it, comma-separated",
        "  (CSP_ENCRYPTION_KEY=new,old), run `csp-bot keys rotate`, then drop the old ones.",
    ]
)


def _refuse_without_key() -> None:
    """Stop, touching nothing, when CSP_ENCRYPTION_KEY is not set."""
    from bot.referrals.availability import UNAVAILABLE, referrals_available

    if not referrals_available():
        fail(f"{UNAVAILABLE} Nothing was changed; set the key and run this again.")


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new key. Put it first in CSP_ENCRYPTION_KEY, then run `csp-bot keys rotate`."""
    from bot.referrals import crypto  # the referral modules, for these commands only

    typer.echo(crypto.generate_key())  # alone on stdout, so KEY=$(csp-bot keys generate) works
    typer.echo(KEY_GUIDANCE, err=True)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored referral field under the newest (first) key."""
    from bot.referrals import audit, crypto  # the referral modules, for these commands only

    with cli_context() as ctx:
        keys = ctx.settings.encryption_keys
        if not keys:
            fail("CSP_ENCRYPTION_KEY is not set; make a key with `csp-bot keys generate`.")
        if len(keys) == 1:
            typer.echo(
                "CSP_ENCRYPTION_KEY holds one key, so there is nothing to rotate: everything "
                "stored is already under it. To change keys, make one with `csp-bot keys "
                "generate`, set CSP_ENCRYPTION_KEY=new,old (the new one first), run "
                "`csp-bot keys rotate`, then drop the old key."
            )
            return
        cipher = crypto.Cipher(keys)
        try:
            with session_scope(ctx.sessions) as session:
                count = crypto.rotate_all(session, cipher)
                audit.record(
                    session,
                    partnership_id=None,
                    actor=_operator(),
                    action="rotate_keys",
                    reference=None,
                    detail=f"fields={count} keys={cipher.key_count}",
                    now=ctx.clock.now(),
                )
        except crypto.DecryptError:
            fail(
                "some stored referral fields cannot be decrypted with any key in "
                "CSP_ENCRYPTION_KEY; add the old key after the new one and run this again."
            )
        typer.echo(
            f"Re-encrypted {plural(count, 'referral field')} under the newest key. Once every "
            "process uses the new CSP_ENCRYPTION_KEY you can drop the older keys from it."
        )


def _parse_head(value: str | None) -> tuple[int, str] | None:
    """``--expect COUNT:HASH`` as (count, hash); one sentence when it is not that."""
    if value is None:
        return None
    count, _, digest = value.strip().partition(":")
    digest = digest.strip().lower()
    if not (count.isdigit() and int(count) > 0 and len(digest) == 64) or any(
        c not in "0123456789abcdef" for c in digest
    ):
        fail(
            "--expect takes the head an earlier `csp-bot audit verify` printed, as "
            "COUNT:HASH (a record count, a colon and 64 hex characters). Copy it again "
            "and run the command again."
        )
    return int(count), digest


@audit_app.command("verify")
def audit_verify(
    expect: Annotated[
        str | None,
        typer.Option(
            "--expect",
            metavar="COUNT:HASH",
            help="The head printed by an earlier run: detects records removed since then.",
        ),
    ] = None,
) -> None:
    """Check the audit chain; exits 1 if a record was changed, removed or re-ordered."""
    from bot.referrals import audit  # the referral modules, for these commands only

    anchor = _parse_head(expect)
    with cli_context() as ctx, session_scope(ctx.sessions) as session:
        result = audit.verify_chain(session, expect=anchor)
        entry = audit.record(
            session,
            partnership_id=None,
            actor=_operator(),
            action="audit_verify",
            reference=None,
            detail=f"ok={result.ok} records={result.count} first_bad={result.first_bad_id}",
            now=ctx.clock.now(),
        )
        head = (result.count + 1, entry.hash)
    if not result.ok:
        fail(result.message + " Restore the audit table from a backup and report it.", code=1)
    typer.echo(result.message)
    typer.echo(
        f"Head: record {head[0]}, hash {head[1]} (this check included). Keep it outside "
        f"the database and run `csp-bot audit verify --expect {head[0]}:{head[1]}` next "
        "time, so records removed from the end are detected too."
    )


@referrals_app.command("purge")
def referrals_purge(
    now: Annotated[
        str | None, typer.Option(help="Pretend it is this time (ISO-8601 with a zone).")
    ] = None,
) -> None:
    """Remove personal fields of referrals past their retention period (counts are kept)."""
    # The referral modules, for these commands only.
    from bot.referrals import queries
    from bot.referrals.retention import purge_expired

    parsed = _parse_now(now)
    with cli_context() as ctx, session_scope(ctx.sessions) as session:
        _refuse_without_key()
        when = parsed or ctx.clock.now()
        total = 0
        for partnership in queries.all_partnerships(session):
            total += purge_expired(session, partnership, when, actor=_operator())
    typer.echo(
        f"Purged the personal details of {plural(total, 'referral')} past their retention period."
        if total
        else "No referral is past its retention period; nothing was purged."
    )


@referrals_app.command("export")
def referrals_export(
    reference: Annotated[str, typer.Argument(help="The referral reference, e.g. SG-2026-0007.")],
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="Slack user ID of the lead or admin asking (exports are audited against it).",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Write the JSON here (created readable by you only).")
    ] = None,
) -> None:
    """Write one referral's full record (subject access request or handover); audited."""
    # The referral modules (the cipher and the decrypting reader), for these commands only.
    from bot.referrals import crypto
    from bot.referrals.access import NotALead
    from bot.referrals.reading import export_referral

    if as_user is None or not as_user.strip():
        fail(
            "say who is asking with --as and a safeguarding lead's or admin's Slack user ID "
            f"(e.g. `csp-bot referrals export {reference} --as U0123ABCD`): every export is "
            "checked against that person's role and recorded in the audit trail under it."
        )
    with cli_context() as ctx:
        _refuse_without_key()
        try:
            with session_scope(ctx.sessions) as session:
                crypto.verify_referral_key(session, ctx.settings.encryption_keys)
        except ConfigError as exc:
            fail(str(exc))
        refused: str | None = None
        record: dict[str, object] = {}
        now = ctx.clock.now()
        with session_scope(ctx.sessions) as session:
            partnership = ensure_partnership(session, ctx.settings, now=now)
            actor = resolve_actor(
                session, partnership, as_user.strip(), now=now, settings=ctx.settings
            )
            try:
                record = export_referral(session, partnership, actor, reference, now=now)
            except NotALead as exc:
                refused = str(exc)  # the scope commits the refusal's audit record
        if refused:
            fail(refused, code=1)
        text = json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True)
        if output is None:
            typer.echo(text)
            return
        try:
            _write_private(output, text + "\n")
        except OSError as exc:
            fail(
                f"could not write {output} ({exc.strerror or type(exc).__name__}); the export "
                "was recorded in the audit trail. Choose another path and run it again.",
                code=1,
            )
        typer.echo(f"Wrote {reference} to {output}. Keep it secure and delete it when done.")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(audit_app, name="audit")
    app.add_typer(referrals_app, name="referrals")
