"""The right grammar: bandit and radon run under an interpreter that can parse the project.

The end-to-end tests use the real interpreters of this machine (pyenv's 3.12 and 3.13 here) and
build a real tool environment from the configured package index; they skip where no Python
3.12+ exists. The choice itself is tested on a fake pyenv tree and PATH.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from ai_conductor.analysis import analyze, scan
from ai_conductor.analysis.interpreter import choose, declared_minimum
from ai_conductor.analysis.toolenv import ToolEnvError, ensure, resolve
from ai_conductor.settings import Settings
from tests.analysis._newsyntax import modern_paths, write_codebase

RUNNING = sys.version_info[:2]


@pytest.fixture(scope="session")
def tool_envs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tool-environment folder for the session: each is built once (a few seconds)."""
    return tmp_path_factory.mktemp("tool-envs")


def settings(home: Path, tool_envs: Path, **over: object) -> Settings:
    values: dict[str, object] = {"home": home, "analysis_tool_envs": tool_envs}
    return Settings(**{**values, **over})  # type: ignore[arg-type]


def newer_python(tool_envs: Path, tmp_path: Path) -> Settings:
    """Settings under which the 3.12 project finds a real interpreter (else the test skips)."""
    chosen = settings(tmp_path / "home", tool_envs)
    probe = write_codebase(tmp_path / "probe", modern=0, classic=1)
    if not choose(probe, chosen).candidates:
        pytest.skip("no Python 3.12+ interpreter on this machine (pyenv, PATH)")
    return chosen


# -- what the project needs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "minimum"),
    [
        ({"pyproject.toml": '[project]\nrequires-python = ">=3.12,<4"\n'}, (3, 12)),
        ({"pyproject.toml": '[project]\nrequires-python = "~=3.10"\n'}, (3, 10)),
        ({"pyproject.toml": '[project]\nrequires-python = "==3.9.*"\n'}, (3, 9)),
        ({"pyproject.toml": '[project]\nrequires-python = "<3.13"\n'}, None),
        ({"pyproject.toml": '[project]\nrequires-python = "not a spec"\n'}, None),
        ({"pyproject.toml": '[tool.ruff]\ntarget-version = "py313"\n'}, (3, 13)),
        ({"ruff.toml": 'target-version = "py311"\n'}, (3, 11)),
        ({".ruff.toml": 'target-version = "py38"\n'}, (3, 8)),
        ({".python-version": "3.12.1\n"}, (3, 12)),
        ({".venv/pyvenv.cfg": "home = /usr/bin\nversion = 3.13.0\n", ".venv/bin/python": ""},
         (3, 13)),
        # the strictest declaration wins: the code may use anything its newest source allows
        ({"pyproject.toml": '[project]\nrequires-python = ">=3.9"\n[tool.ruff]\n'
                            'target-version = "py312"\n'}, (3, 12)),
        ({"pyproject.toml": "not [ toml"}, None),
        ({}, None),
    ],
)  # fmt: skip
def test_declared_minimum(tmp_path: Path, files: dict[str, str], minimum: object) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found, sources = declared_minimum(tmp_path)
    assert found == minimum
    assert bool(sources) == (minimum is not None)


def _executable(path: Path, text: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_choice_order_lowest_suitable_project_env_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    newer = RUNNING[1] + 1
    pyenv = tmp_path / "pyenv"
    for name in (f"3.{newer}.1", f"3.{newer + 1}.0", f"3.{RUNNING[1]}.7", "miniconda3"):
        _executable(pyenv / "versions" / name / "bin" / "python3")
    on_path = tmp_path / "bin"
    _executable(on_path / f"python3.{newer}")
    _executable(pyenv / "shims" / f"python3.{newer + 1}")  # a shim: never a candidate
    monkeypatch.setenv("PATH", f"{on_path}{os.pathsep}{pyenv / 'shims'}")
    root = tmp_path / "code"
    venv = _executable(root / ".venv" / "bin" / "python")
    (root / ".venv" / "pyvenv.cfg").write_text(f"version_info = 3.{newer}.2.final.0\n")
    choice = choose(root, Settings(home=tmp_path / "h", pyenv_root=pyenv))
    assert choice.minimum == (3, newer)
    assert not choice.current_ok
    assert [(c.executable, c.origin) for c in choice.candidates] == [
        (venv, "project environment"),
        (pyenv / "versions" / f"3.{newer}.1" / "bin" / "python3", "pyenv"),
        (on_path / f"python3.{newer}", "PATH"),
        (pyenv / "versions" / f"3.{newer + 1}.0" / "bin" / "python3", "pyenv"),
    ]
    current = choose(root, Settings(home=tmp_path / "h", analysis_python="current"))
    assert (current.candidates, current.current_ok, current.forced) == ([], False, True)
    (root / ".venv" / "pyvenv.cfg").write_text(f"version = 3.{RUNNING[1]}.0\n")
    assert choose(root, Settings(home=tmp_path / "h", pyenv_root=pyenv)).current_ok


def test_a_candidate_that_does_not_run_is_skipped_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Like a pyenv shim whose version is not selected: it exists, but exits 127."""
    broken = _executable(tmp_path / "bin" / "python3.99", "#!/bin/sh\necho 'not selected' >&2\n"
                         "exit 127\n")  # fmt: skip
    monkeypatch.setenv("PATH", str(broken.parent))
    root = write_codebase(tmp_path / "code", modern=1, classic=0, requires=">=3.99")
    chosen = Settings(home=tmp_path / "h", pyenv_root=tmp_path / "no-pyenv")
    python = resolve(root, chosen)
    assert python.current
    assert python.note is not None
    assert f"{broken} (PATH): running it failed (exit 127): not selected" in python.note
    assert "Python 3.99+ (pyproject.toml requires-python >=3.99)" in python.note
    marker = next(chosen.tool_envs_dir.glob("py3.99-*.failed"))
    assert "not selected" in marker.read_text()
    (candidate,) = choose(root, chosen).candidates
    with pytest.raises(ToolEnvError, match="retried after an hour"):  # no second attempt
        ensure(candidate, chosen)


# -- the real thing --------------------------------------------------------------------------------


def test_new_syntax_is_read_fully_under_a_new_enough_interpreter(
    tmp_path: Path, tool_envs: Path
) -> None:
    chosen = newer_python(tool_envs, tmp_path)
    root = write_codebase(tmp_path / "code", modern=13, classic=27)
    report = scan(root, settings=chosen)
    for name in ("bandit", "radon"):
        run = next(t for t in report.tools if t.name == name)
        assert (run.files_total, run.files_failed, run.failures) == (40, 0, []), run
        assert run.python is not None
        assert tuple(map(int, run.python.split(".")[:2])) >= (3, 12)
    assert not report.warnings
    pickles = {f.path for f in report.findings if "bandit:B403" in f.also_reported_by
               or f.rule_id == "B403"}  # fmt: skip
    assert modern_paths(root) <= pickles  # bandit read the 3.12 files and found their import
    again = resolve(root, chosen)  # the environment is reused, never rebuilt
    env = again.python.parent.parent
    assert not again.current
    assert env.parent == tool_envs
    assert (env / "conductor-tools.json").stat().st_mtime < report.finished_at.timestamp()


def test_history_survives_a_run_that_could_not_parse(tmp_path: Path, tool_envs: Path) -> None:
    """Read with 3.12, then with 3.11 (13 files unreadable for bandit), then 3.12 again: the
    findings in those files are neither 'fixed' in the middle run nor 'new' in the last."""
    chosen = newer_python(tool_envs, tmp_path)
    root = write_codebase(tmp_path / "code", modern=13, classic=27)
    first = analyze(root, settings=chosen)
    blind = analyze(root, settings=chosen.model_copy(update={"analysis_python": "current"}))
    assert blind.summary.fixed == 0, [f.path for f in blind.fixed]
    bandit = next(t for t in blind.tools if t.name == "bandit")
    assert bandit.files_failed == 13
    last = analyze(root, settings=chosen)
    assert last.summary.new == 0, [(f.rule_id, f.path) for f in last.findings if f.status == "new"]
    assert last.summary.existing == first.summary.total
