"""Benchmark: precision and recall of the security findings on the labelled corpus.

One command: ``python benchmarks/security.py`` (``--json`` for machine-readable output,
``--rules`` adds the per-rule table that decides precision-first merging). The corpus is
``benchmarks/corpus/security/<class>/``: every labelled line ends with ``# vuln: CLASS`` (request
data reaches the sink: a true positive) or ``# safe: CLASS`` (the same sink with constant,
sanitized or looked-up data: a finding there is a false positive), optionally followed by
``limit: WHY`` when the conductor is known to get the case wrong.

Three configurations are scored the same way, each a real ``scan`` with an empty cache: the
conductor's default analysis, ruff alone and bandit alone. A case counts as flagged when a
finding of its class (``ai_conductor.analysis.rules.check_class``) covers the labelled line.
Per class and overall (all cases pooled): TPR = flagged vulnerable / vulnerable, FPR = flagged
safe / safe, and TPR - FPR.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ai_conductor.analysis.engine import scan
from ai_conductor.analysis.models import Finding
from ai_conductor.analysis.rules import check_class
from ai_conductor.settings import Settings

CORPUS = Path(__file__).parent / "corpus" / "security"
LABEL = re.compile(r"#\s*(vuln|safe):\s*([\w-]+)(?:\s+limit:\s*(.+?))?\s*$")
CONFIGS: dict[str, list[str] | None] = {"conductor": None, "ruff": ["ruff"], "bandit": ["bandit"]}


@dataclass(frozen=True)
class Case:
    path: str
    line: int
    klass: str
    vulnerable: bool
    limit: str | None
    """Why the conductor is known to get this case wrong, when it is."""


def cases(root: Path = CORPUS) -> list[Case]:
    found = []
    for file in sorted(root.rglob("*.py")):
        rel = file.relative_to(root).as_posix()
        for number, text in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            match = LABEL.search(text)
            if match:
                kind, klass, limit = match.groups()
                found.append(Case(rel, number, klass, kind == "vuln", limit))
    return found


def flagged(case: Case, findings: Iterable[Finding]) -> list[Finding]:
    """Findings of the case's class that cover its line."""
    return [
        f for f in findings
        if f.path == case.path and f.line <= case.line <= f.end_line
        and check_class(f.tool, f.rule_id) == case.klass
    ]  # fmt: skip


def run(tools: Sequence[str] | None, root: Path = CORPUS) -> tuple[list[Finding], float]:
    """A cold scan of the corpus (its own empty cache) and its wall time."""
    with tempfile.TemporaryDirectory(prefix="conductor-bench-") as home:
        settings = Settings(home=Path(home))
        started = time.perf_counter()
        report = scan(root, tools=tools, settings=settings)
        elapsed = time.perf_counter() - started
    missing = [t.name for t in report.tools if not t.available or t.error]
    if missing:
        sys.exit(f"cannot score: {', '.join(missing)} did not run ({report.warnings})")
    return report.findings, elapsed


def rates(results: Iterable[tuple[Case, bool]]) -> dict[str, float | int]:
    tp = fp = vuln = safe = 0
    for case, hit in results:
        vuln += case.vulnerable
        safe += not case.vulnerable
        tp += case.vulnerable and hit
        fp += (not case.vulnerable) and hit
    tpr = tp / vuln if vuln else 0.0
    fpr = fp / safe if safe else 0.0
    return {"vuln": vuln, "safe": safe, "tp": tp, "fp": fp,
            "tpr": round(tpr, 3), "fpr": round(fpr, 3), "score": round(tpr - fpr, 3)}  # fmt: skip


def score(labelled: list[Case], findings: list[Finding]) -> dict[str, dict[str, float | int]]:
    by_class: dict[str, list[tuple[Case, bool]]] = defaultdict(list)
    for case in labelled:
        by_class[case.klass].append((case, bool(flagged(case, findings))))
    table = {klass: rates(rows) for klass, rows in sorted(by_class.items())}
    table["overall"] = rates(row for rows in by_class.values() for row in rows)
    return table


def rule_cases(labelled: list[Case], findings: list[Finding]) -> dict[str, dict[str, list[str]]]:
    """The labelled lines each rule (``tool:rule``, merged duplicates included) flagged, as
    ``path:line`` under ``tp`` and ``fp``: the data that decides which of two overlapping
    rules is the more precise."""
    table: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"tp": [], "fp": []})
    for case in labelled:
        for f in flagged(case, findings):
            for name in {f"{f.tool}:{f.rule_id}", *f.also_reported_by}:
                table[name]["tp" if case.vulnerable else "fp"].append(f"{case.path}:{case.line}")
    return dict(sorted(table.items()))


def _print(tables: dict[str, dict[str, dict[str, float | int]]], seconds: dict[str, float]) -> None:
    names = list(tables)
    head = f"{'class':<16}{'vuln':>5}{'safe':>5}" + "".join(
        f"  {n + ' TPR':>14}{'FPR':>6}{'T-F':>7}" for n in names
    )
    print(head)
    print("-" * len(head))
    for klass in tables[names[0]]:
        first = tables[names[0]][klass]
        row = f"{klass:<16}{first['vuln']:>5}{first['safe']:>5}"
        for name in names:
            r = tables[name][klass]
            row += f"  {r['tpr']:>14.2f}{r['fpr']:>6.2f}{r['score']:>+7.2f}"
        print(row)
    print()
    print("cold scan of the corpus: " + ", ".join(f"{n} {s:.2f} s" for n, s in seconds.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--rules", action="store_true", help="also print TP/FP per rule")
    args = parser.parse_args(argv)
    os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="conductor-bench-prefect-"))
    labelled = cases()
    tables, seconds, rules = {}, {}, {}
    for name, tools in CONFIGS.items():
        findings, seconds[name] = run(tools)
        tables[name] = score(labelled, findings)
        rules[name] = rule_cases(labelled, findings)
    if args.json:
        print(json.dumps({"classes": tables, "seconds": seconds, "rules": rules}, indent=1))
        return 0
    _print(tables, seconds)
    if args.rules:
        print("\nper rule (TP/FP on labelled lines):")
        for name, table in rules.items():
            counts = (f"{r} {len(c['tp'])}/{len(c['fp'])}" for r, c in table.items())
            print(f"  {name}: " + ", ".join(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
