"""`/csp report` in the shell: the file the app sends is written to disk, and it says where."""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document

from bot.context import AppContext
from handlers.shell.shell import Shell


def test_the_shell_writes_the_pack_and_says_where(seeded_ctx: AppContext, tmp_path: Path) -> None:
    out = io.StringIO()
    shell = Shell(seeded_ctx, user_id="UADMIN", files_dir=tmp_path)
    shell.run(io.StringIO("/csp report 2026Q2\n"), out, interactive=False)
    text = out.getvalue()
    written = tmp_path / "csp-scrutiny-pack-2026Q2.docx"
    assert "— a direct message to you: a file, csp-scrutiny-pack-2026Q2.docx —" in text
    assert f"(The shell wrote it to {written.resolve()}.)" in text
    assert "is in your direct messages with me" in text
    assert Document(io.BytesIO(written.read_bytes())).paragraphs[0].text.startswith("Maldon")


def test_a_member_is_told_no_in_the_shell(seeded_ctx: AppContext, tmp_path: Path) -> None:
    out = io.StringIO()
    Shell(seeded_ctx, user_id="UMEMBER", files_dir=tmp_path).run(
        io.StringIO("/csp report\n"), out, interactive=False
    )
    assert "Only partnership admins can make the scrutiny pack" in out.getvalue()
    assert not list(tmp_path.glob("*.docx"))
