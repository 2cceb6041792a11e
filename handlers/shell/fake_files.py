"""The local Slack's file uploads: the three steps of ``files_upload_v2``, kept in memory.

``files.getUploadURLExternal`` hands out an upload URL on the local server, the bytes
are posted to it (recorded as method ``file_upload``), and
``files.completeUploadExternal`` shares the file in a channel (a message carrying the
file, as Slack shows it). :attr:`FileUploads.files` keeps every shared file's bytes.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any


class FileUploads:
    """Mixed into :class:`~handlers.shell.fake_slack.LocalSlack` (which supplies the
    lock, the message store, ``root_url`` and ``_next_ts``)."""

    _lock: threading.RLock
    _messages: dict[str, list[dict[str, Any]]]
    root_url: str
    _next_ts: Callable[[], str]

    def _init_files(self) -> None:
        self._file_ids = itertools.count(1)
        self._pending: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}

    def shared_files(self, channel: str) -> list[dict[str, Any]]:
        """The files shared in ``channel`` (name, title, data, ...), oldest first."""
        with self._lock:
            return [dict(f) for f in self.files.values() if f.get("channel") == channel]

    def _api_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        filename = str(args.get("filename") or "")
        try:
            length = int(args.get("length") or 0)
        except ValueError:
            length = 0
        if not filename or length <= 0:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._file_ids):08d}"
        self._pending[file_id] = {"id": file_id, "name": filename, "length": length}
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.root_url}/upload/{file_id}"}

    def _api_file_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        pending = self._pending.get(str(args.get("file_id") or ""))
        data = args.get("_data", b"")
        if pending is None or len(data) != pending["length"]:
            return {"ok": False, "error": "upload_rejected"}
        pending["data"] = data
        return {"ok": True}

    def _api_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        listed = args.get("files")
        if not isinstance(listed, list) or not listed:
            return {"ok": False, "error": "invalid_arguments"}
        channel = str(args.get("channel_id") or "")
        done = []
        for item in listed:
            pending = self._pending.get(str(item.get("id") if isinstance(item, dict) else ""))
            if pending is None or "data" not in pending:
                return {"ok": False, "error": "file_not_found"}
            shared = {
                **pending,
                "title": item.get("title") or pending["name"],
                "channel": channel or None,
                "initial_comment": args.get("initial_comment") or "",
                "permalink": f"https://csp.slack.com/files/{pending['id']}/{pending['name']}",
            }
            self.files[pending["id"]] = shared
            done.append({k: v for k, v in shared.items() if k != "data"})
        if channel:
            message = {
                "type": "message",
                "channel": channel,
                "ts": self._next_ts(),
                "text": args.get("initial_comment") or "",
                "files": [{"id": f["id"], "name": f["name"]} for f in done],
            }
            self._messages.setdefault(channel, []).append(message)
        return {"ok": True, "files": done}
