"""One writer per embedded store: an advisory lock on `<store>.lock`, naming who holds it.

The lock is `flock`ed for as long as the writing process lives, so it is free again the moment that process
dies, even by SIGKILL; the file's text (JSON: pid, command, url) tells a second writer whom it met and where to
send its events instead. Read-only commands take no lock: WAL lets them read beside the writer.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any


class StoreLocked(Exception):
    """Another live process writes this store."""

    def __init__(self, path: str, holder: dict[str, Any]) -> None:
        self.path = path
        self.holder = holder
        super().__init__(f"{path} is written by {describe(holder)}")


def describe(holder: dict[str, Any]) -> str:
    text = f"ccdata {holder.get('command', '?')} (PID {holder.get('pid', '?')})"
    return f"{text} at {holder['url']}" if holder.get("url") else text


class WriterLock:
    """Held by the process that writes a store; `update` records its URL once it listens."""

    def __init__(self, store_path: str | Path, command: str) -> None:
        self.path = f"{store_path}.lock"
        self.command = command
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(self._fd)
            os.close(self._fd)
            raise StoreLocked(str(store_path), holder) from None
        self.update()

    def update(self, url: str | None = None) -> None:
        text = json.dumps({"pid": os.getpid(), "command": self.command, "url": url}).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, text, 0)

    def release(self) -> None:
        if self._fd >= 0:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1


def _read(fd: int) -> dict[str, Any]:
    try:
        data = os.pread(fd, 4096, 0)
        holder = json.loads(data) if data else {}
        return holder if isinstance(holder, dict) else {}
    except (OSError, ValueError):
        return {}
