"""The audit database (PostgreSQL behind a TCP proxy) goes away mid-run for longer than
CONDUCTOR_AUDIT_SPOOL_AFTER: the run still finishes, its events wait in the spool, and once the
database is back `conductor logs replay` stores every one of them exactly once."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from tests._pg import make_pg_database
from tests.conftest import BIN, cli_env, wait_for
from tests.faults.conftest import record_figures
from tests.store._proxy import FlakyProxy

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
PY = sys.executable
WAIT = ("import pathlib, sys, time\nflag = pathlib.Path(sys.argv[1])\n"
        "while not flag.exists(): time.sleep(0.05)\ntime.sleep(float(sys.argv[2]))")  # fmt: skip


class CuttableProxy(FlakyProxy):
    """Forwards from the start; :meth:`cut` drops every open and new connection."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.forward()

    def cut(self) -> None:
        self._forwarding.clear()
        with self._lock:
            for s in self._sockets:
                with contextlib.suppress(OSError):
                    s.close()
            self._sockets.clear()


def test_database_outage_mid_run_then_replay_exactly_once(prefect_api: str, tmp_path: Path) -> None:
    flag = tmp_path / "outage-started"
    spec = {"workflow_id": "outage", "tasks": [
        {"id": "before", "agent": "noop"},
        {"id": "during", "agent": "command", "dependencies": ["before"],
         "inputs": {"command": [PY, "-c", WAIT, str(flag), "2.5"]}},
        {"id": "after1", "agent": "noop", "dependencies": ["during"]},
        {"id": "after2", "agent": "command", "dependencies": ["during"],
         "inputs": {"command": [PY, "-c", "print('ok')"]}},
    ]}  # fmt: skip
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    with make_pg_database() as direct:
        parsed = make_url(direct)
        proxy = CuttableProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
        proxied = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False
        )
        engine = create_engine(direct)
        env = cli_env(prefect_api, tmp_path / "home", CONDUCTOR_DATABASE_URL=proxied,
                      CONDUCTOR_AUDIT_SPOOL_AFTER="1")  # fmt: skip
        try:

            def stored() -> list[tuple[str, str | None, str]]:
                with engine.connect() as conn:
                    return [(str(r[0]), r[1], r[2]) for r in conn.execute(text(
                        "SELECT event_id, task_id, action FROM coordination_logs "
                        "WHERE workflow_id = 'outage'"))]  # fmt: skip

            argv = [str(BIN / "conductor"), "run", "--config", str(spec_file), "--json"]
            run = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)  # fmt: skip

            def started_during() -> bool:
                with contextlib.suppress(Exception):
                    return ("during", "started") in {(t, a) for _, t, a in stored()}
                return False

            wait_for(started_during, "the run to log 'during' started", 120)
            proxy.cut()  # the database is gone from here on
            flag.write_text("go")
            out, err = run.communicate(timeout=120)
            assert run.returncode == 0, err[-3000:]
            result = json.loads(out)
            assert proxy.dropped > 0  # the run tried to reach the database during the outage
            spooled = list((tmp_path / "home" / "spool").glob("audit-spool-*.jsonl"))
            assert spooled, "the events of the outage should be in the spool"
            waiting = sum(len(p.read_text().splitlines()) for p in spooled)
            before = len(stored())

            proxy.forward()  # the database is back
            replay = subprocess.run([str(BIN / "conductor"), "logs", "replay", "--json"], env=env,
                                    capture_output=True, text=True, timeout=120)  # fmt: skip
            assert replay.returncode == 0, replay.stderr
            counts = json.loads(replay.stdout)
            again = subprocess.run([str(BIN / "conductor"), "logs", "replay", "--json"], env=env,
                                   capture_output=True, text=True, timeout=120)  # fmt: skip
            assert json.loads(again.stdout)["replayed"] == 0  # idempotent
            rows = stored()
        finally:
            engine.dispose()
            proxy.close()
    ids = Counter(event_id for event_id, _, _ in rows)
    assert max(ids.values()) == 1, "an event stored twice"
    assert counts["replayed"] + counts["duplicates"] == waiting
    assert counts["left"] == 0
    assert counts["rejected"] == 0
    assert len(rows) == before + counts["replayed"]
    actions = Counter((t, a) for _, t, a in rows)
    for task in ("before", "during", "after1", "after2"):
        assert actions[(task, "started")] == 1, (task, actions)
        assert actions[(task, "succeeded")] == 1, (task, actions)
    assert actions[(None, "started")] == 1
    assert actions[(None, "finished")] == 1
    assert result["run_id"]
    record_figures("db_outage", spooled=waiting, replayed=counts["replayed"],
                   already_stored=counts["duplicates"], events=len(rows), events_lost=0,
                   duplicates=0, connections_dropped=proxy.dropped)  # fmt: skip
