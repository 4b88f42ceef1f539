"""An analyzer-tool plugin that proves concurrency: a file-system barrier between repositories.

A repository's ``.barrier`` file names a directory and a party count. The tool leaves a marker
there, then waits until ``parties`` markers exist: it can only finish when every audit of the
fleet is in progress at the same time. Audited one after another, the first one times out and
says so (a tool error, which the fleet reports as that repository's warning).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ai_conductor.analysis.tools.base import ToolResult

BARRIER_FILE = ".barrier"


def arm(repo: Path, barrier: Path, parties: int, timeout: float = 45.0) -> None:
    """Make ``repo`` wait at ``barrier`` for ``parties`` audits."""
    barrier.mkdir(parents=True, exist_ok=True)
    spec = {"dir": str(barrier), "parties": parties, "timeout": timeout}
    (repo / BARRIER_FILE).write_text(json.dumps(spec))


@dataclass
class BarrierTool:
    name: str = field(default="barrier", init=False)
    per_file: bool = field(default=False, init=False)
    parallel: bool = field(default=False, init=False)

    def version(self) -> str | None:
        return "1"

    def config_key(self) -> str:
        return "barrier"

    def run(self, root: Path, files: list[str]) -> ToolResult:
        spec = json.loads((root / BARRIER_FILE).read_text())
        barrier, parties = Path(spec["dir"]), int(spec["parties"])
        (barrier / f"{os.getpid()}-{time.monotonic_ns()}").write_text(str(root))
        deadline = time.monotonic() + float(spec["timeout"])
        while (arrived := len(list(barrier.iterdir()))) < parties:
            if time.monotonic() > deadline:
                why = f"barrier: {arrived} of {parties} audits in progress after {spec['timeout']}s"
                return ToolResult(errors=[why])
            time.sleep(0.05)
        return ToolResult()
