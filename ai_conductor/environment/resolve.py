"""Where the project's tests run, in this order:

1. an explicit test command (``--test-command`` / spec ``test_command``), run as given;
2. the project's own virtualenv (``.venv/``, ``venv/``);
3. the project's tool, when its lock file is there and the tool is installed: ``uv.lock`` ->
   synced into a conductor-owned environment and run through ``uv run``; ``poetry.lock`` /
   hatch configuration / ``pdm.lock`` -> that tool's existing environment for the project;
4. ``tox`` / ``nox`` when asked (``--test-env tox|nox``): they run the tests themselves;
5. otherwise an isolated environment built once per dependency set (see :mod:`.deps`).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from ai_conductor.environment import build as b
from ai_conductor.environment.deps import TEST_NAMES, plan_for
from ai_conductor.environment.models import TEST_ENVS, EnvKind, ProjectEnvironment
from ai_conductor.environment.project import (
    LOCKS,
    PYTEST_ARGS,
    find_tool,
    has_module,
    project_venv,
    pyproject,
    tool_lock,
    tool_python,
    uses_pytest,
)
from ai_conductor.errors import ProjectEnvironmentError, UsageError
from ai_conductor.settings import Settings, get_settings

TOOLS = ("uv", "poetry", "hatch", "pdm")
UV_RUN = ["run", "--frozen", "--no-sync"]


def _venv_env(
    kind: EnvKind, python: Path, pytest: bool, reason: str, **extra: object
) -> ProjectEnvironment:
    venv = python.parent.parent
    if pytest and not has_module(python, "pytest"):
        raise ProjectEnvironmentError(
            f"the tests use pytest, but the {kind.value} environment {venv} has no pytest: "
            f"install it there ({python} -m pip install pytest), or give --test-command"
        )
    return ProjectEnvironment(
        kind=kind, reason=reason, python=str(python), location=str(venv),
        test_command=[str(python), *PYTEST_ARGS] if pytest else None,
        variables={"VIRTUAL_ENV": str(venv)}, path=[str(python.parent)], **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def _own(root: Path, pytest: bool) -> ProjectEnvironment | None:
    python = project_venv(root)
    if python is None:
        return None
    name = python.parent.parent.name
    return _venv_env(EnvKind.VENV, python, pytest, f"the project's own environment {name}/")


def _flags(root: Path) -> list[str]:
    data = pyproject(root)
    extras = TEST_NAMES & set(data.get("project", {}).get("optional-dependencies", {}) or {})
    groups = TEST_NAMES & set(data.get("dependency-groups", {}) or {})
    return [*(a for e in sorted(extras) for a in ("--extra", e)),
            *(a for g in sorted(groups) for a in ("--group", g))]  # fmt: skip


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def _python_tag() -> str:
    return f"{sys.implementation.name}-{'.'.join(map(str, sys.version_info[:3]))}"


def _uv(root: Path, pytest: bool, settings: Settings, build: bool) -> ProjectEnvironment | None:
    uv = find_tool("uv")
    assert uv is not None
    flags = _flags(root)
    texts = [(root / n).read_text("utf-8", "replace") for n in ("uv.lock", "pyproject.toml")
             if (root / n).is_file()]  # fmt: skip
    name = f"uv-{_digest(_python_tag(), *texts, *flags)}"
    timeout = settings.env_build_timeout

    def sync(target: Path) -> None:
        argv = [uv, "sync", "--frozen", "--no-install-project", "--python", sys.executable, *flags]
        env = {**b.gate_env(), "UV_PROJECT_ENVIRONMENT": str(target)}
        b.check(b.run(argv, root, timeout, env), "the uv environment")
        python = b.venv_python(target)
        if pytest and python and not has_module(python, "pytest"):
            b.install(python, ["pytest"], uv, root, timeout)

    found = b.ready(b.envs_dir(settings) / name)
    if found is None and not build:
        return None
    target, built, seconds = (
        (found, False, 0.0)
        if found
        else b.ensure(name, sync, settings, {"project": str(root), "flags": flags})
    )
    python = b.venv_python(target)
    return ProjectEnvironment(
        kind=EnvKind.UV, python=str(python), location=str(target), built=built,
        build_seconds=seconds if built else None,
        reason=f"uv.lock and uv: the locked dependencies synced into {target.name}, "
        "run through uv run",
        test_command=[uv, *UV_RUN, "python", *PYTEST_ARGS] if pytest else None,
        variables={"UV_PROJECT_ENVIRONMENT": str(target)}, path=[str(target / "bin")],
    )  # fmt: skip


def _tool(
    root: Path, pytest: bool, settings: Settings, build: bool, notes: list[str]
) -> ProjectEnvironment | None:
    for tool in TOOLS:
        if not tool_lock(root, tool):
            continue
        what = LOCKS.get(tool, "hatch configuration")
        if tool == "uv":
            if find_tool("uv") is None:
                notes.append(f"{what} found, but uv is not installed")
                continue
            found = _uv(root, pytest, settings, build)
            if found is not None:
                return found
            continue
        python, why = tool_python(root, tool)
        if python is None:
            notes.append(f"{what} found, but {why}")
            continue
        kind = EnvKind(tool)
        return _venv_env(
            kind, python, pytest, f"{what} and {tool}: {tool}'s environment for the project"
        )
    return None


def _check_python(root: Path) -> None:
    raw = pyproject(root).get("project", {}).get("requires-python")
    try:
        spec = SpecifierSet(str(raw)) if raw else None
    except InvalidSpecifier:
        return
    version = ".".join(map(str, sys.version_info[:3]))
    if spec is not None and not spec.contains(version, prereleases=True):
        raise ProjectEnvironmentError(
            f"the project requires Python {raw}, but the conductor runs on {version} and builds "
            "isolated environments with it: create the project's .venv with a suitable Python, "
            "or give --test-command"
        )


def _isolated(
    root: Path, pytest: bool, settings: Settings, build: bool, notes: list[str]
) -> ProjectEnvironment | None:
    plan = plan_for(root, pytest=pytest)
    name = f"py-{plan.key()}"
    found = b.ready(b.envs_dir(settings) / name)
    if found is None and not build:
        return None
    if found is None:
        _check_python(root)
        uv = b.installer(settings)

        def make(target: Path) -> None:
            python = b.make_venv(target, uv, settings.env_build_timeout)
            args = plan.install_args(target / ".conductor-requirements")
            b.install(python, args, uv, root, settings.env_build_timeout)

        about = {"project": str(root), "sources": plan.sources, "installer": uv or "pip"}
        target, built, seconds = b.ensure(name, make, settings, about)
    else:
        target, built, seconds = found, False, 0.0
    python = b.venv_python(target)
    assert python is not None
    why = "; ".join(notes) or "no environment of its own"
    read = ", ".join(plan.sources) or "nothing declared"
    reason = f"{why}: an isolated environment built from {read}"
    return _venv_env(EnvKind.ISOLATED, python, pytest, reason, built=built,
                     build_seconds=seconds if built else None)  # fmt: skip


def _configured(root: Path, tool: str) -> bool:
    if tool == "nox":
        return (root / "noxfile.py").is_file()
    cfg = root / "setup.cfg"
    return (
        (root / "tox.ini").is_file() or "tox" in pyproject(root).get("tool", {})
        or (cfg.is_file() and "[tox:tox]" in cfg.read_text("utf-8", "replace"))
    )  # fmt: skip


def _runner(root: Path, tool: str, settings: Settings) -> ProjectEnvironment:
    configured = _configured(root, tool)
    if not configured:
        where = "tox.ini, [tool.tox] or setup.cfg [tox:tox]" if tool == "tox" else "noxfile.py"
        raise UsageError(f"--test-env {tool}: {root} has no {tool} configuration ({where})")
    binary = find_tool(tool)
    if binary is None:
        raise UsageError(f"--test-env {tool}: {tool} is not installed (pip install {tool})")
    work = b.envs_dir(settings) / f"{tool}-{_digest(str(root))}"
    argv = [binary, "--workdir", str(work)] if tool == "tox" else [
        binary, "--envdir", str(work), "--reuse-existing-virtualenvs"]  # fmt: skip
    python = existing_python(root, settings)
    return ProjectEnvironment(
        kind=EnvKind(tool), reason=f"asked for: {tool} runs the tests in its own environments",
        python=str(python) if python else None, location=str(work), test_command=argv,
        code_on_path=False, exclusive=True,
    )  # fmt: skip


def resolve_environment(
    root: Path,
    *,
    test_command: list[str] | None = None,
    test_env: str = "auto",
    settings: Settings | None = None,
    build: bool = True,
) -> ProjectEnvironment:
    """The environment the project's tests (and type check) run in; see the module docstring.

    ``build=False`` never builds or syncs: an environment built earlier is still used.
    Raises :class:`ProjectEnvironmentError` when a build fails (exit 3) and
    :class:`UsageError` for an impossible choice.
    """
    settings = settings or get_settings()
    root = root.resolve()
    if test_env not in TEST_ENVS:
        raise UsageError(f"--test-env {test_env!r}: choose one of {', '.join(TEST_ENVS)}")
    if test_command is not None:
        python = existing_python(root, settings)
        note = f"; type checks use {python}" if python else ""
        what = (
            "tests disabled (empty test command)"
            if not test_command
            else "the test command you gave, run as given"
        )
        return ProjectEnvironment(
            kind=EnvKind.EXPLICIT, reason=what + note, test_command=list(test_command),
            python=str(python) if python else None,
        )  # fmt: skip
    if test_env in ("tox", "nox"):
        return _runner(root, test_env, settings)
    pytest, notes = uses_pytest(root), list[str]()
    if test_env == "auto":
        found = _own(root, pytest) or _tool(root, pytest, settings, build, notes)
        if found is not None:
            return found
    if pytest or test_env == "isolated":
        made = _isolated(root, pytest, settings, build, notes)
        if made is not None:
            return made
    why = (
        "no tests found (no pytest configuration, conftest.py or tests/test_*.py)"
        if not pytest
        else "not built (nothing to run in it)"
    )
    return ProjectEnvironment(
        kind=EnvKind.NONE,
        reason=f"{why} and no environment of its own: the gate relies on the analyzer",
    )


def existing_python(root: Path, settings: Settings | None = None) -> Path | None:
    """The project's own interpreter when it has one (its venv, its tool's environment, or
    an environment the conductor already built for it); never builds anything."""
    settings = settings or get_settings()
    root = root.resolve()
    python = project_venv(root)
    for tool in ("poetry", "hatch", "pdm"):
        if python is None and tool_lock(root, tool) and find_tool(tool):
            python = tool_python(root, tool)[0]
    if python is None:
        try:
            env = resolve_environment(root, settings=settings, build=False)
        except (ProjectEnvironmentError, UsageError):
            return None
        python = Path(env.python) if env.python else None
    return python
