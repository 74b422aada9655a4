"""A write-ahead journal of usage records, so a killed process loses none it served.

The usage writer batches records for the database every fraction of a second;
a process killed with SIGKILL (or by the OOM killer) would lose what was still
queued, up to a whole backlog under load. Each record is therefore also
appended to a file of this process's own, and the file is emptied once the
database has everything in it. Appends are gathered and written once per turn
of the event loop (one `write` for every record submitted in that turn), so
what a kill can still lose is bounded by the records of the loop turn it
interrupts — none of whose responses had been sent yet. The operating system
keeps written data when a process dies; only a crash of the machine itself
(power loss) could lose the last seconds, which an fsync per turn would cost
too much to prevent.

A starting process replays every journal in the directory whose owner is gone
(each process holds an exclusive `flock` on its own file for its lifetime, so
a live process's journal is never touched) and then deletes it. Records the
database took just before a kill may be written twice (at least once rather
than at most once): the journal marks what was written after each batch, so
that window is one batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import orjson

from lowart.types import UsageRecord

__all__ = ["UsageJournal"]

log = logging.getLogger("lowart.usage")

_SUFFIX = ".usage-journal"
_MARK = b'{"written":'


class UsageJournal:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = directory / f"{os.getpid()}-{secrets.token_hex(6)}{_SUFFIX}"
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._directory = directory
        self._buffer: list[bytes] = []
        self._scheduled = False
        self._in_file = 0  # records in the file now
        self._written = 0  # of those, how many the database has (in order)

    # ---- the request path ------------------------------------------------------------

    def append(self, record: UsageRecord) -> None:
        """Queue one record for this loop turn's write (a few µs: one orjson dump)."""
        self._buffer.append(orjson.dumps(record, default=_decimal_text) + b"\n")
        self._in_file += 1
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._write_now)

    def _write_now(self) -> None:
        self._scheduled = False
        if not self._buffer:
            return
        data = b"".join(self._buffer)
        self._buffer.clear()
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:  # a full disk must not stop serving; the database still gets it
            log.error("usage journal write failed (records stay queued in memory): %s", exc)

    # ---- the writer's side -------------------------------------------------------------

    def written(self, count: int) -> None:
        """The database took the next `count` records (the writer writes in order)."""
        self._written += count
        if self._written >= self._in_file and not self._buffer:
            os.ftruncate(self._fd, 0)  # everything is in the database: start afresh
            self._in_file = self._written = 0
        else:
            self._buffer.append(_MARK + str(self._written).encode() + b"}\n")
            if not self._scheduled:
                self._scheduled = True
                asyncio.get_running_loop().call_soon(self._write_now)

    def close(self, *, complete: bool) -> None:
        """At shutdown: with everything written (`complete`), the file goes; otherwise
        it stays for the next process to replay."""
        self._write_now()
        with contextlib.suppress(OSError):
            os.close(self._fd)
        if complete:
            self.path.unlink(missing_ok=True)

    # ---- the next process ----------------------------------------------------------------

    def recover(self) -> list[UsageRecord]:
        """Records left by processes that died before the database had them; their
        journals are removed (the records are this process's to write now)."""
        recovered: list[UsageRecord] = []
        for path in sorted(self._directory.glob(f"*{_SUFFIX}")):
            if path == self.path:
                continue
            records = _read_orphan(path)
            if records is None:
                continue  # its owner is alive
            recovered += records
            path.unlink(missing_ok=True)
        if recovered:
            log.warning("recovered %d usage records from an interrupted process", len(recovered))
        return recovered


def _read_orphan(path: Path) -> list[UsageRecord] | None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return []
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            lines = handle.read().splitlines()
    finally:
        os.close(fd)
    records: list[UsageRecord] = []
    written = 0
    for line in lines:
        if line.startswith(_MARK):
            with contextlib.suppress(ValueError):
                written = int(line[len(_MARK) : -1])
            continue
        try:
            records.append(_record(orjson.loads(line)))
        except (orjson.JSONDecodeError, TypeError, InvalidOperation):  # cut short by the kill
            continue
    return records[written:]


def _decimal_text(value: object) -> str:
    """A record's cost goes to the journal as its exact decimal text."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _record(fields: dict[str, Any]) -> UsageRecord:
    if fields.get("cost") is not None:
        fields["cost"] = Decimal(fields["cost"])
    return UsageRecord(**fields)
