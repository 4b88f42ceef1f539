"""The analyzer-tool plugins, run for real on examples/defects and on hostile files.

No mocks: ruff, bandit, radon, vulture and semgrep are installed and run (semgrep with local
rules only: its registry needs the network); its JSON mapping is also tested on a hand-written
sample (see ``SEMGREP_SAMPLE``).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import pickle
import re
import sys
from pathlib import Path

import pytest

from ai_conductor.analysis.models import Category, Finding, Severity
from ai_conductor.analysis.rules import FOCUS_AREAS, equivalent, ruff_rule, tags_for
from ai_conductor.analysis.tools import DEFAULT_TOOLS, OPTIONAL_TOOLS, TOOLS, load_tool
from ai_conductor.analysis.tools.bandit import severity as bandit_severity
from ai_conductor.analysis.tools.base import AnalyzerTool, ToolResult
from ai_conductor.analysis.tools.radon import RadonTool
from ai_conductor.analysis.tools.semgrep import SemgrepTool, parse_output
from ai_conductor.analysis.tools.vulture import VultureTool
from ai_conductor.errors import AnalysisToolError, UsageError

REPO = Path(__file__).resolve().parents[2]
DEFECTS = REPO / "examples" / "defects"
MARK = re.compile(r"#\s*DEFECT:\s*(.+)$")

EXPECTED: dict[str, dict[str, set[str]]] = {
    "db.py": {"SQL injection": {"S608", "B608"}},
    "calculator.py": {"eval of user input": {"S307", "B307"}},
    "deploy.py": {"shell=True": {"S602", "B602"}},
    "settings_loader.py": {"yaml.load without SafeLoader": {"S506", "B506"}},
    "cache_store.py": {"pickle.loads of untrusted data": {"S301", "B301"}},
    "accounts.py": {"md5 for a password": {"S324", "B324"}},
    "config.py": {"hard-coded password": {"S105", "B105"}, "hard-coded secret": {"S105", "B105"}},
    "weather.py": {"no timeout": {"S113", "B113"}},
    "parsing.py": {"bare except": {"E722", "BLE001"}},
    "cart.py": {"mutable default argument": {"B006"}},
    "report.py": {"undefined name tax_rate": {"F821"}},
    "pricing.py": {"too complex": {"CC"}},
    "helpers.py": {"unused import": {"F401"}},
}
"""file -> marker text -> the rule ids that count as reporting it."""


def markers() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(DEFECTS.rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if match := MARK.search(line):
                found.append((path.relative_to(DEFECTS).as_posix(), n, match[1].strip()))
    return found


def py_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))


@pytest.fixture(scope="module")
def results() -> dict[str, ToolResult]:
    files = py_files(DEFECTS)
    return {name: load_tool(name).run(DEFECTS, files) for name in DEFAULT_TOOLS}


def test_every_planted_defect_is_reported_at_its_line(results: dict[str, ToolResult]) -> None:
    planted = markers()
    assert {(f, text) for f, _, text in planted} == {
        (f, text) for f, table in EXPECTED.items() for text in table
    }, "a # DEFECT: marker and the EXPECTED table disagree"
    reported = {(f.path, f.line, f.rule_id) for r in results.values() for f in r.findings}
    missed = [
        (path, line, text)
        for path, line, text in planted
        if not any((path, line, rule) in reported for rule in EXPECTED[path][text])
    ]
    assert not missed, f"planted defects not reported at their line: {missed}"
    assert len(planted) >= 12


def test_the_control_file_is_clean(results: dict[str, ToolResult]) -> None:
    for name, result in results.items():
        assert [f for f in result.findings if f.path == "clean.py"] == [], name
        assert result.errors == [], name
    assert not (DEFECTS / ".ruff_cache").exists(), "ruff wrote its cache into the codebase"


def test_findings_are_normalised(results: dict[str, ToolResult]) -> None:
    ruff = {(f.path, f.rule_id): f for f in results["ruff"].findings}
    assert ruff["helpers.py", "F401"].fixable
    assert not ruff["db.py", "S608"].fixable
    sql = ruff["db.py", "S608"]
    assert (sql.severity, sql.category, sql.line, sql.end_line) == (
        Severity.HIGH, Category.SECURITY, 7, 7,
    )  # fmt: skip
    assert sql.column > 1
    assert sql.end_column
    assert sql.end_column > sql.column
    assert "database" in sql.tags
    assert "security" in sql.tags
    bandit = {(f.path, f.rule_id): f for f in results["bandit"].findings}
    assert "CWE-89" in bandit["db.py", "B608"].tags
    assert bandit["db.py", "B608"].severity is Severity.LOW  # MEDIUM, but LOW confidence
    assert bandit["deploy.py", "B602"].severity is Severity.HIGH
    for result in results.values():
        for f in result.findings:
            assert not Path(f.path).is_absolute(), f
            assert not f.path.startswith("./"), f
            assert f.fingerprint == ""


def test_radon_metrics_and_complexity_finding(results: dict[str, ToolResult]) -> None:
    radon = results["radon"]
    (cc,) = radon.findings
    assert (cc.path, cc.rule_id, cc.severity, cc.line, cc.end_line) == (
        "pricing.py", "CC", Severity.LOW, 4, 36,
    )  # fmt: skip
    assert "shipping_cost" in cc.message
    assert "18" in cc.message
    clean = radon.metrics["clean.py"]
    assert clean.maintainability is not None
    assert clean.maintainability > 10
    names = {h.name: h for h in clean.functions}
    assert {"Order", "Order.total", "Ledger", "Ledger.add", "Ledger.load"} <= set(names)
    assert names["Ledger.add"].line == 30
    assert names["Ledger.add"].rank == "A"
    assert set(radon.metrics) == set(py_files(DEFECTS))


def test_radon_thresholds_severity_by_rank_and_maintainability(tmp_path: Path) -> None:
    def chain(n: int) -> str:
        return f"def f{n}(x):\n" + "".join(
            f"    if x == {i}:\n        return {i}\n" for i in range(n)
        )

    (tmp_path / "big.py").write_text(chain(24) + chain(34) + chain(9))
    result = RadonTool().run(tmp_path, ["big.py"])
    assert {f.message.split()[0]: f.severity for f in result.findings} == {
        "f24": Severity.MEDIUM, "f34": Severity.HIGH,
    }  # fmt: skip
    strict = RadonTool(options={"cc_threshold": 5, "mi_threshold": 100})
    assert strict.config_key() != RadonTool().config_key()
    found = {(f.rule_id, f.line) for f in strict.run(tmp_path, ["big.py"]).findings}
    assert {("CC", 1), ("MI", 1)} <= found
    assert len(found) == 4


@pytest.mark.parametrize("name", [t for t in DEFAULT_TOOLS if t != "taint"])  # test_taint.py
def test_hostile_files_never_crash(name: str, tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def broken(:\n    pass\n")
    (tmp_path / "latin1.py").write_bytes("name = 'caf\xe9'\nx = eval(name)\n".encode("latin-1"))
    (tmp_path / "empty.py").write_bytes(b"")
    (tmp_path / "-dash.py").write_text("x = eval('1')\n")  # not an option for the tool
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("y = eval('2')\n")
    files = ["broken.py", "latin1.py", "empty.py", "-dash.py", "pkg/mod.py"]
    result = load_tool(name).run(tmp_path, files)
    by_path: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_path.setdefault(f.path, []).append(f)
    assert "empty.py" not in by_path
    assert "latin1.py" not in by_path
    assert result.failures["latin1.py"], result.failures  # counted, with the reason
    assert result.errors == []
    if name == "ruff":
        (syntax,) = by_path["broken.py"]
        assert (syntax.rule_id, syntax.category, syntax.severity) == (
            "syntax-error", Category.BUG, Severity.HIGH,
        )  # fmt: skip
    else:
        assert "broken.py" not in by_path
        grammar = "{}.{}".format(*sys.version_info[:2])
        assert result.failures["broken.py"] == f"syntax Python {grammar} cannot parse"
        assert set(result.failures) == {"broken.py", "latin1.py"}
    if name != "radon":
        assert {f.line for f in by_path["-dash.py"]} == {1}
        assert {f.line for f in by_path["pkg/mod.py"]} == {1}
    else:
        assert result.metrics["empty.py"].functions == []
    assert not (tmp_path / ".ruff_cache").exists()


def test_tools_pickle_and_run_in_worker_processes() -> None:
    tools = [load_tool(name) for name in TOOLS]
    for tool in tools:
        assert isinstance(pickle.loads(pickle.dumps(tool)), type(tool))
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        futures = [
            pool.submit(t.run, DEFECTS, ["db.py", "pricing.py"]) for t in tools if t.parallel
        ]
        assert all(f.result().findings for f in futures)


def test_vulture_is_whole_program() -> None:
    tool = VultureTool()
    assert (tool.version(), tool.per_file, tool.parallel)[1:] == (False, False)
    assert tool.version() is not None
    result = tool.run(DEFECTS, py_files(DEFECTS))
    unused = {(f.path, f.line, f.rule_id): f for f in result.findings}
    imp = unused["helpers.py", 3, "VULTURE-import"]
    assert (imp.severity, imp.category) == (Severity.LOW, Category.MAINTAINABILITY)
    assert unused["pricing.py", 4, "VULTURE-function"].severity is Severity.INFO


def test_load_tool_names_import_paths_and_errors() -> None:
    assert set(DEFAULT_TOOLS) | set(OPTIONAL_TOOLS) == set(TOOLS)
    for name in TOOLS:
        tool = load_tool(name)
        assert isinstance(tool, AnalyzerTool)
        assert tool.name == name
    assert load_tool("Ruff").name == "ruff"
    plugged = load_tool("ai_conductor.analysis.tools.radon:RadonTool", {"cc_threshold": 3})
    assert plugged.config_key().startswith("cc>3;")
    with pytest.raises(UsageError, match=r"'nosuchtool'.*ruff, bandit, radon, vulture, semgrep"):
        load_tool("nosuchtool")
    with pytest.raises(UsageError, match="cannot import no_such_pkg"):
        load_tool("no_such_pkg.mod:Tool")
    with pytest.raises(UsageError, match="has no attribute 'Nope'"):
        load_tool("ai_conductor.analysis.tools.ruff:Nope")
    with pytest.raises(UsageError, match="is not an analyzer tool"):
        load_tool("pathlib:PurePath")


def test_rule_table() -> None:
    assert ruff_rule("S608") == (Category.SECURITY, Severity.HIGH)
    assert ruff_rule("S105") == (Category.SECURITY, Severity.MEDIUM)
    assert ruff_rule("S603") == (Category.SECURITY, Severity.LOW)
    assert ruff_rule("S999") == (Category.SECURITY, Severity.MEDIUM)
    assert (
        ruff_rule("F821") == ruff_rule("F811") == ruff_rule("F632") == (Category.BUG, Severity.HIGH)
    )
    assert ruff_rule("E999") == ruff_rule("syntax-error") == (Category.BUG, Severity.HIGH)
    assert ruff_rule("F401") == ruff_rule("F841") == (Category.MAINTAINABILITY, Severity.LOW)
    assert ruff_rule("B006") == ruff_rule("B008") == (Category.BUG, Severity.MEDIUM)
    assert ruff_rule("E722") == ruff_rule("BLE001") == (Category.BUG, Severity.MEDIUM)
    assert ruff_rule("PERF401") == (Category.PERFORMANCE, Severity.LOW)
    assert ruff_rule("UP031") == ruff_rule("SIM108") == (Category.STYLE, Severity.LOW)
    assert bandit_severity("HIGH", "HIGH") is Severity.HIGH
    assert bandit_severity("MEDIUM", "LOW") is Severity.LOW
    assert bandit_severity("LOW", "LOW") is Severity.INFO


def test_equivalent_rules_across_ruff_and_bandit() -> None:
    for number in ("608", "324", "113", "301", "105"):
        assert equivalent("ruff", f"S{number}", "bandit", f"B{number}")
        assert equivalent("bandit", f"B{number}", "ruff", f"S{number}")
    assert not equivalent("ruff", "S608", "bandit", "B607")
    assert not equivalent("ruff", "B006", "bandit", "B006")  # ruff's B is bugbear, not bandit
    assert not equivalent("ruff", "S608", "semgrep", "S608")
    assert not equivalent("ruff", "F401", "bandit", "B401")
    assert equivalent("ruff", "S608", "ruff", "S608")


@pytest.mark.parametrize(
    ("tool", "rule", "category", "area"),
    [
        ("ruff", "S307", Category.SECURITY, "security"),
        ("bandit", "B307", Category.SECURITY, "security"),
        ("ruff", "PERF401", Category.PERFORMANCE, "performance"),
        ("radon", "CC", Category.COMPLEXITY, "complexity"),
        ("radon", "MI", Category.MAINTAINABILITY, "complexity"),
        ("ruff", "S608", Category.SECURITY, "database"),
        ("bandit", "B608", Category.SECURITY, "database"),
        ("bandit", "B610", Category.SECURITY, "database"),
        ("semgrep", "python.sqlalchemy.raw-sql-query", Category.SECURITY, "database"),
        ("ruff", "S113", Category.SECURITY, "api"),
        ("bandit", "B501", Category.SECURITY, "api"),
        ("ruff", "S104", Category.SECURITY, "api"),
        ("bandit", "B310", Category.SECURITY, "api"),
        ("ruff", "S321", Category.SECURITY, "api"),
        ("ruff", "PERF401", Category.PERFORMANCE, "algorithms"),
        ("radon", "CC", Category.COMPLEXITY, "algorithms"),
        ("ruff", "B007", Category.MAINTAINABILITY, "algorithms"),
        ("ruff", "B020", Category.BUG, "algorithms"),
        ("ruff", "SIM108", Category.STYLE, "algorithms"),
        ("ruff", "F821", Category.BUG, "bugs"),
        ("ruff", "UP031", Category.STYLE, "style"),
    ],
)
def test_tags_for_focus_areas(tool: str, rule: str, category: Category, area: str) -> None:
    assert area in FOCUS_AREAS
    assert area in tags_for(tool, rule, category)


def test_tags_are_specific() -> None:
    assert tags_for("ruff", "S307", Category.SECURITY) == ["security"]
    assert "database" not in tags_for("ruff", "S113", Category.SECURITY)
    assert "api" not in tags_for("ruff", "B113", Category.BUG)  # bugbear B113 is not bandit's
    assert tags_for("radon", "MI", "maintainability") == ["complexity"]


SEMGREP_SAMPLE = {
    "version": "1.80.0",
    "results": [
        {
            "check_id": "rules.python-sql-injection",
            "path": "app/db.py",
            "start": {"line": 12, "col": 5, "offset": 210},
            "end": {"line": 13, "col": 40, "offset": 260},
            "extra": {
                "message": "User input flows into a SQL query.",
                "severity": "ERROR",
                "metadata": {
                    "category": "security",
                    "cwe": ["CWE-89: Improper Neutralization of Special Elements in SQL"],
                    "references": ["https://owasp.org/Top10/A03_2021-Injection"],
                },
                "lines": "requires login",
                "fingerprint": "requires login",
            },
        },
        {
            "check_id": "rules.useless-comparison",
            "path": "/abs/root/app/util.py",
            "start": {"line": 3, "col": 1},
            "end": {"line": 3, "col": 9},
            "extra": {"message": "x == x is always true", "severity": "INFO", "metadata": {}},
        },
    ],
    "errors": [
        {
            "code": 3,
            "level": "warn",
            "type": "Syntax error",
            "path": "app/broken.py",
            "message": "Syntax error at line 1",
        }
    ],
    "paths": {"scanned": ["app/db.py", "app/util.py"]},
}


def test_semgrep_output_mapping_from_a_recorded_sample() -> None:
    """The sample is written by hand after semgrep's documented ``--json`` output format
    (results[].check_id/path/start/end/extra.{message,severity,metadata}, errors[]):
    registry rules (the network) are never used here."""
    result = parse_output(SEMGREP_SAMPLE, Path("/abs/root"))
    sql, cmp = result.findings
    assert (sql.tool, sql.rule_id, sql.rule_name, sql.path) == (
        "semgrep", "rules.python-sql-injection", "python-sql-injection", "app/db.py",
    )  # fmt: skip
    assert (sql.line, sql.end_line, sql.column, sql.end_column) == (12, 13, 5, 40)
    assert (sql.severity, sql.category) == (Severity.HIGH, Category.SECURITY)
    assert {"CWE-89", "database", "security"} <= set(sql.tags)
    assert sql.help_uri == "https://owasp.org/Top10/A03_2021-Injection"
    assert (cmp.path, cmp.severity, cmp.category) == ("app/util.py", Severity.LOW, Category.BUG)
    assert result.errors == ["semgrep: app/broken.py: Syntax error at line 1"]
    with pytest.raises(AnalysisToolError, match="semgrep printed output we cannot read"):
        parse_output({"results": [{"path": "x.py"}]}, Path("/abs/root"))


def test_semgrep_tool_runs_a_local_rules_file(tmp_path: Path) -> None:
    """semgrep is installed (its own environment, linked beside the interpreter): the optional
    ``semgrep`` tool runs a local rules file offline. Without semgrep: test_taint.py."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - id: no-eval\n    languages: [python]\n    severity: ERROR\n"
        "    message: eval runs code\n    pattern: eval(...)\n"
        "    metadata: {category: security, cwe: ['CWE-95: Eval injection']}\n"
    )
    (tmp_path / "a.py").write_text("x = 1\ny = eval(input())\n")
    tool = load_tool("semgrep", {"config": str(rules)})
    assert tool.version() is not None
    assert (tool.per_file, tool.parallel) == (True, False)
    (found,) = tool.run(tmp_path, ["a.py"]).findings
    assert (found.rule_id, found.line, found.category) == ("no-eval", 2, Category.SECURITY)
    assert "CWE-95" in found.tags
    before = tool.config_key()
    rules.write_text("rules: []\n")
    assert tool.config_key() != before != SemgrepTool().config_key()
    with pytest.raises(AnalysisToolError, match="semgrep needs a local rules file"):
        SemgrepTool().run(tmp_path, ["a.py"])
