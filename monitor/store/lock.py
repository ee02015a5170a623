"""One writer per archive: an advisory lock file beside the database.

APScheduler has no cross-process lock, so two ``monitor run`` on one database would both
run every job. flock is released by the kernel when the process dies, even on SIGKILL.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from monitor.errors import LockedError


class ArchiveLock:
    def __init__(self, db_path: str | Path, *, role: str = "") -> None:
        # ``role``: a second kind of process with its own lock, e.g. "slack" for the one
        # Slack app process an archive may have (Slack gives an event to one connection).
        self.db_path = Path(db_path)
        self.role = role
        self.path = Path(str(db_path) + (f".{role}" if role else "") + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.read(fd, 32).decode(errors="replace").strip() or "another process"
            finally:
                os.close(fd)
            what = f"monitor {self.role} process" if self.role else "monitor"
            raise LockedError(
                f"another {what} (pid {holder}) is already using {self.db_path}",
                "stop it first, or point --db at a different archive",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ArchiveLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
