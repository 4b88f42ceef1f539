"""The audit spool: append-only JSON lines of events that could not be written, and their replay.

One spool per database (``audit-spool-<hash>.jsonl``, the hash of the URL without password), so
events meant for two databases never mix. Appends and the replay's claim take an exclusive
``flock`` on the file, so no line is appended to a file that is already being replayed.

Replay is crash-safe: the spool is renamed to a unique ``*.replaying`` file, its rows are inserted
(duplicates skipped by event_id), then the file is deleted. A crash in between leaves the
``*.replaying`` file, which the next replay takes first; rows already stored are skipped again.
A line that does not parse, or a row the database refuses, is appended to ``*.rejected.jsonl``
(kept, never retried automatically) and counted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from ai_conductor._paths import expand_user
from ai_conductor.store.schema import metadata_value
from ai_conductor.store.writes import COLUMNS, TRANSIENT, Row

log = logging.getLogger("ai_conductor.audit")

Inserter = Callable[[Sequence[Row]], tuple[int, list[Row]]]


@dataclass(frozen=True)
class ReplayResult:
    """What a replay of the spool did."""

    replayed: int = 0
    """Rows inserted into the database."""
    duplicates: int = 0
    """Rows skipped because their event_id was already stored."""
    left: int = 0
    """Rows still waiting in the spool (the database failed during the replay)."""
    rejected: int = 0
    """Corrupt lines and rows the database refused, kept aside in ``rejected_file``."""
    spool_file: str = ""
    rejected_file: str = ""


def spool_path(spool_dir: Path, url: str) -> Path:
    """The spool file for the database at ``url`` (same file whatever the password or driver)."""
    try:
        u = make_url(url)
    except ArgumentError:
        ident = url
    else:
        database = u.database or ""
        if u.get_backend_name() == "sqlite" and database and database != ":memory:":
            database = str(expand_user(database).resolve())
        backend, host = u.get_backend_name(), f"{u.username or ''}@{u.host or ''}:{u.port or ''}"
        ident = f"{backend}://{host}/{database}"
    return spool_dir / f"audit-spool-{hashlib.sha256(ident.encode()).hexdigest()[:16]}.jsonl"


def rejected_path(spool: Path) -> Path:
    return spool.with_name(spool.stem + ".rejected.jsonl")


if sys.platform == "win32":  # pragma: no cover - no flock: appends and claims are not locked

    def _lock(_: IO[str]) -> None:
        return None

else:
    import fcntl

    def _lock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # released when the file is closed


@contextmanager
def _locked(path: Path, mode: str) -> Iterator[IO[str]]:
    """``path`` opened and exclusively locked, and still the file at ``path`` once locked."""
    while True:
        with path.open(mode, encoding="utf-8") as handle:
            _lock(handle)
            try:
                same = os.path.samestat(os.fstat(handle.fileno()), path.stat())
            except FileNotFoundError:
                same = False
            if same:
                yield handle
                return
        # renamed by a replay between open and lock: open the new file


def _dumps(row: Row) -> str:
    row = {**row, "metadata": metadata_value(row.get("metadata"))}
    return json.dumps(row, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))


def append(path: Path, rows: Sequence[Row] = (), lines: Sequence[str] = ()) -> None:
    """Append rows (as JSON) and raw lines in one locked, fsynced write; ``OSError`` if it fails."""
    text = "".join(_dumps(row) + "\n" for row in rows) + "".join(
        line if line.endswith("\n") else line + "\n" for line in lines
    )
    if not text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path, "a") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


LEGACY = "audit-spool.jsonl"
"""The one spool file of releases before per-database spools: replayed into whichever database
replays first (such releases had one database per home; rows already there are skipped)."""


def _adopt_legacy(spool: Path) -> None:
    """Fold a pre-0.2 ``audit-spool.jsonl`` into this spool so its events are not stranded."""
    legacy = spool.with_name(LEGACY)
    if legacy == spool or not legacy.exists():
        return
    try:
        with _locked(legacy, "r") as old:
            text = old.read()
            append(spool, lines=[line for line in text.splitlines() if line.strip()])
            legacy.unlink()
    except FileNotFoundError:  # another replayer took it first
        return
    log.warning("replaying %s (spooled by an earlier version) into this database", legacy)


def _claim(spool: Path) -> list[Path]:
    """Leftover ``*.replaying`` files of this spool, then the spool itself renamed to one."""
    _adopt_legacy(spool)
    claimed = sorted(spool.parent.glob(spool.name + ".*.replaying"))
    if not spool.exists():
        return claimed
    target = spool.with_name(f"{spool.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.replaying")
    try:
        with _locked(spool, "r"):
            spool.rename(target)
    except FileNotFoundError:  # another replayer took it first
        return claimed
    return [*claimed, target]


def parse_line(line: str) -> Row | None:
    """A spooled row, or None when the line is not one (corrupt or cut short by a crash)."""
    try:
        raw = json.loads(line)
        if not isinstance(raw, dict):
            return None
        row: Row = {c: raw.get(c) for c in COLUMNS}
        for key in ("workflow_id", "action", "status"):
            if not isinstance(row[key], str):
                return None
        created = row["created_at"]
        row["created_at"] = datetime.fromisoformat(created) if created is not None else None
        if row["metadata"] is not None and not isinstance(row["metadata"], dict):
            return None
    except (ValueError, TypeError):
        return None
    if not row["event_id"]:  # spooled before event ids existed: derive a stable one
        digest = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()
        row["event_id"] = digest[:32]
    return row


def _read(path: Path) -> tuple[list[Row], list[str]]:
    rows, bad = [], []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.strip():
                row = parse_line(line)
                if row is None:
                    bad.append(line)
                else:
                    rows.append(row)
    return rows, bad


def count_rows(spool: Path) -> int:
    """Lines waiting in the spool and its ``*.replaying`` files."""
    files = [spool, *spool.parent.glob(spool.name + ".*.replaying")]
    total = 0
    for path in files:
        try:
            with path.open(encoding="utf-8", errors="replace") as handle:
                total += sum(1 for line in handle if line.strip())
        except FileNotFoundError:
            continue
    return total


def replay(spool: Path, insert: Inserter, batch_size: int) -> ReplayResult:
    """Insert every spooled row once, in batches; rows are only deleted once stored.

    A :data:`~ai_conductor.store.writes.TRANSIENT` error stops the replay: the result's ``left``
    counts the rows still spooled, to be replayed next time.
    """
    replayed = duplicates = rejected = 0
    rejects = rejected_path(spool)
    try:
        for path in _claim(spool):
            try:
                rows, bad = _read(path)
            except FileNotFoundError:  # a concurrent replayer finished it
                continue
            for start in range(0, len(rows), batch_size):
                chunk = rows[start : start + batch_size]
                inserted, refused = insert(chunk)
                replayed += inserted
                duplicates += len(chunk) - inserted - len(refused)
                bad += [_dumps(r) for r in refused]
            append(rejects, lines=bad)
            rejected += len(bad)
            path.unlink(missing_ok=True)
    except TRANSIENT as exc:
        left = count_rows(spool)
        log.warning("audit spool replay stopped, %d events left in %s: %s", left, spool, exc)
        return ReplayResult(replayed, duplicates, left, rejected, str(spool), str(rejects))
    if rejected:
        log.warning("%d spooled audit events could not be replayed; kept in %s", rejected, rejects)
    if replayed or duplicates:
        log.info("replayed %d spooled audit events (%d already stored)", replayed, duplicates)
    return ReplayResult(replayed, duplicates, 0, rejected, str(spool), str(rejects))
