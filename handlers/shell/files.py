"""Files the app sent to the shell's user (a scrutiny pack): written to a folder, and where."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from handlers.shell.screen import Screen


def save_files(
    screen: Screen,
    stored_files: Mapping[str, Mapping[str, Any]],
    folder: Path,
    where: str,
    shared: Sequence[Mapping[str, Any]],
) -> None:
    """Write each file in ``shared`` (as the local Slack stored it) to ``folder``."""
    for listed in shared:
        stored = stored_files.get(str(listed.get("id") or ""), {})
        name = Path(str(stored.get("name") or "file")).name
        screen.print(f"— {where}: a file, {name} —")
        if stored.get("initial_comment"):
            screen.show_blocks(str(stored["initial_comment"]), None)
        target = folder / name
        try:
            target.write_bytes(bytes(stored.get("data") or b""))
        except OSError as exc:
            screen.print(f"(The shell could not write it to {target}: {exc.strerror}.)")
            continue
        screen.print(f"(The shell wrote it to {target.resolve()}.)")
