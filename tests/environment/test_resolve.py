"""The project environment, found or built: the order, reuse, rebuilds, failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ai_conductor.environment import EnvKind, existing_python, resolve_environment
from ai_conductor.environment.build import installer
from ai_conductor.environment.deps import plan_for
from ai_conductor.errors import ProjectEnvironmentError, UsageError
from ai_conductor.implement.verify import run_tests
from ai_conductor.settings import get_settings
from tests.environment.conftest import ONLY, USES_IT, make_venv, uv

pytestmark = pytest.mark.usefixtures("conductor_home", "wheels")


def project(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def run_in(root: Path, env: object) -> subprocess.CompletedProcess[str]:
    from ai_conductor.environment import ProjectEnvironment, gate_env

    assert isinstance(env, ProjectEnvironment)
    assert env.test_command
    return subprocess.run(env.test_command, cwd=root, env=env.environ(root, gate_env()),
                          capture_output=True, text=True)  # fmt: skip


def test_the_projects_own_venv_runs_the_tests(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"tests/test_a.py": USES_IT})
    make_venv(root / ".venv", "pytest", ONLY.replace("_", "-"))
    env = resolve_environment(root)
    assert env.kind is EnvKind.VENV
    assert env.python == str(root / ".venv" / "bin" / "python")
    assert env.reason == "the project's own environment .venv/"
    done = run_in(root, env)
    assert done.returncode == 0, done.stdout  # the package exists only in .venv
    conductor = subprocess.run([sys.executable, "-c", f"import {ONLY}"], capture_output=True)
    assert conductor.returncode != 0  # and not beside the conductor
    assert existing_python(root) == root / ".venv" / "bin" / "python"


def test_a_venv_without_pytest_is_a_clear_error(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"tests/test_a.py": USES_IT})
    make_venv(root / "venv")
    with pytest.raises(ProjectEnvironmentError, match=r"has no pytest: install it there"):
        resolve_environment(root)


def test_requirements_are_built_once_reused_and_rebuilt_when_they_change(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p", {"requirements.txt": "only-in-venv>=1\n", "tests/test_a.py": USES_IT}
    )
    first = resolve_environment(root)
    assert (first.kind, first.built) == (EnvKind.ISOLATED, True)
    assert "requirements.txt" in first.reason
    assert "pytest (the tests use it" in first.reason
    assert Path(first.location or "").parent == get_settings().home_dir / "envs"
    assert run_in(root, first).returncode == 0
    again = resolve_environment(root)
    assert (again.built, again.location) == (False, first.location)  # reused
    (root / "requirements.txt").write_text("only-in-venv>=1\niniconfig\n")
    changed = resolve_environment(root)
    assert changed.built
    assert changed.location != first.location
    assert sorted(p.name for p in root.iterdir()) == ["requirements.txt", "tests"]  # untouched


def test_venv_and_pip_build_the_same_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDUCTOR_ENV_INSTALLER", "pip")
    root = project(
        tmp_path / "p", {"requirements.txt": "only-in-venv\n", "tests/test_a.py": USES_IT}
    )
    env = resolve_environment(
        root, settings=get_settings().model_copy(update={"env_installer": "pip"})
    )
    info = json.loads((Path(env.location or "") / ".conductor-env.json").read_text())
    assert info["installer"] == "pip"
    assert run_in(root, env).returncode == 0


def test_a_failed_build_names_the_command_and_its_output(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p", {"requirements.txt": "no-such-package-xyz==9\n", "tests/test_a.py": USES_IT}
    )
    with pytest.raises(ProjectEnvironmentError) as caught:
        resolve_environment(root)
    text = str(caught.value)
    assert "pip install" in text
    assert "no-such-package-xyz" in text
    assert caught.value.exit_code == 3
    assert not list((get_settings().home_dir / "envs").glob("py-*-*"))  # nothing half-built left


def test_two_runs_building_the_same_environment_at_once_share_one(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p", {"requirements.txt": "only-in-venv\n", "tests/test_a.py": USES_IT}
    )
    code = ("import json, sys; from pathlib import Path; "
            "from ai_conductor.environment import resolve_environment as r; "
            "e = r(Path(sys.argv[1])); print(json.dumps([e.built, e.location]))")  # fmt: skip
    procs = [subprocess.Popen([sys.executable, "-c", code, str(root)], stdout=subprocess.PIPE,
                              env=os.environ.copy(), text=True) for _ in range(2)]  # fmt: skip
    results = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    assert sorted(built for built, _ in results) == [False, True]
    assert len({loc for _, loc in results}) == 1
    assert len(list((get_settings().home_dir / "envs").glob("py-*-*"))) == 1


def test_a_uv_lock_project_runs_through_uv(tmp_path: Path) -> None:
    pyproject = ('[project]\nname = "shop"\nversion = "0.1"\nrequires-python = ">=3.11"\n'
                 'dependencies = ["only-in-venv"]\n\n[dependency-groups]\ndev = ["pytest"]\n\n'
                 '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')  # fmt: skip
    root = project(tmp_path / "p", {"pyproject.toml": pyproject, "tests/test_a.py": USES_IT})
    subprocess.run([uv(), "lock", "-q"], cwd=root, check=True)
    env = resolve_environment(root)
    assert env.kind is EnvKind.UV
    assert env.test_command
    assert env.test_command[:4] == [uv(), "run", "--frozen", "--no-sync"]
    assert run_in(root, env).returncode == 0
    assert not (root / ".venv").exists()  # synced into the conductor's envs, not the project


def test_an_explicit_command_runs_as_given(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"tests/test_a.py": USES_IT})
    env = resolve_environment(root, test_command=["make", "check"])
    assert (env.kind, env.test_command) == (EnvKind.EXPLICIT, ["make", "check"])
    assert not (get_settings().home_dir / "envs").exists()  # nothing built


def test_no_tests_means_no_build(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"requirements.txt": "only-in-venv\n", "app.py": "x = 1\n"})
    env = resolve_environment(root)
    assert (env.kind, env.test_command) == (EnvKind.NONE, None)
    assert env.describe() == "no environment (no tests to run)"  # not "none environment"
    assert existing_python(root) is None


def test_tox_and_nox_are_refused_clearly_when_unusable(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"tests/test_a.py": USES_IT})
    with pytest.raises(UsageError, match="no tox configuration"):
        resolve_environment(root, test_env="tox")
    (root / "noxfile.py").write_text("")
    with pytest.raises(UsageError, match="nox is not installed"):
        resolve_environment(root, test_env="nox")
    with pytest.raises(UsageError, match="choose one of"):
        resolve_environment(root, test_env="conda")


def test_the_worktrees_code_wins_over_an_installed_copy(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"src/only_in_venv/__init__.py": "VALUE = 43\n",
                                    "tests/test_a.py": USES_IT.replace("42", "43")})  # fmt: skip
    make_venv(root / ".venv", "pytest", ONLY.replace("_", "-"))  # an installed copy says 42
    assert run_in(root, resolve_environment(root)).returncode == 0


def test_pip_index_configuration_keeps_uv_out(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = get_settings()
    for var in ("UV_NO_INDEX", "UV_FIND_LINKS", "UV_CONFIG_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr("ai_conductor.environment.build.UV_CONFIGS", ())
    monkeypatch.setenv("PIP_INDEX_URL", "https://pypi.internal.example/simple")
    assert installer(settings) is None  # pip: uv would not see the private index
    monkeypatch.setenv("UV_INDEX_URL", "https://pypi.internal.example/simple")
    assert installer(settings) is not None


def test_the_plan_reads_extras_groups_and_requirement_files(tmp_path: Path) -> None:
    pyproject = ('[project]\nname = "shop"\ndependencies = ["a>=1"]\n'
                 '[project.optional-dependencies]\ntest = ["shop[extra]", "b"]\nextra = ["c"]\n'
                 'docs = ["sphinx"]\n[dependency-groups]\ndev = ["d", {include-group = "lint"}]\n'
                 'lint = ["e"]\n')  # fmt: skip
    files = {"pyproject.toml": pyproject, "requirements.txt": "-e .\n-r more.txt\nf\n",
             "more.txt": "g  # comment\n", "requirements-docs.txt": "sphinx\n"}  # fmt: skip
    root = project(tmp_path / "p", files)
    plan = plan_for(root, pytest=True)
    assert sorted(plan.requirements) == ["a>=1", "b", "c", "d", "e", "pytest"]  # no sphinx
    assert [name.split("-", 1)[1] for name in plan.top] == ["requirements.txt"]
    assert "-e" not in "".join(plan.files.values())  # the project itself comes from the worktree
    assert "g" in "".join(plan.files.values())
    assert plan.key() == plan_for(root, pytest=True).key()
    (root / "more.txt").write_text("h\n")  # a nested file's change changes the key
    assert plan.key() != plan_for(root, pytest=True).key()


def test_run_tests_uses_the_environment(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p", {"requirements.txt": "only-in-venv\n", "tests/test_a.py": USES_IT}
    )
    env = resolve_environment(root)
    assert env.test_command
    run = run_tests(root, env.test_command, 120, env)
    assert run.passed, run.output_tail
    assert run.environment.startswith("isolated environment")
