"""The CLI and the public Python API, pinned (issue 15): every command and subcommand, every
option and argument, the exit-code table, ``ai_conductor.__all__`` and the signatures of the
public names are compared with checked-in snapshots, so a restructuring cannot quietly change
them. A deliberate change regenerates them: ``python -m tests.test_cli_surface --update``.
"""

from __future__ import annotations

import argparse
import enum
import inspect
import json
import re
from pathlib import Path
from typing import Any

from typer.main import get_command

SNAPSHOTS = Path(__file__).parent / "snapshots"
CLI_SNAPSHOT = SNAPSHOTS / "cli.json"
API_SNAPSHOT = SNAPSHOTS / "api.json"


def _default(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return _default(value.value)
    if isinstance(value, list | tuple):
        return [_default(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _param(param: Any) -> dict[str, Any]:
    option = param.param_type_name == "option"
    return {
        "kind": "option" if option else "argument",
        "name": param.name,
        "opts": list(param.opts),
        "secondary_opts": list(param.secondary_opts),
        "required": param.required,
        "multiple": param.multiple,
        "is_flag": bool(getattr(param, "is_flag", False)),
        "hidden": bool(getattr(param, "hidden", False)),
        "default": _default(param.default),
    }


def _command(command: Any, path: list[str]) -> list[dict[str, Any]]:
    entry = {
        "command": " ".join(path),
        "hidden": command.hidden,
        "group": hasattr(command, "commands"),
        "params": [_param(p) for p in command.params],
    }
    found = [entry]
    for name, sub in getattr(command, "commands", {}).items():
        found += _command(sub, [*path, name])
    return found


def _exit_codes() -> dict[str, int]:
    from ai_conductor import errors
    from ai_conductor.analysis.gate import QualityGateFailed

    classes = [
        c for c in vars(errors).values()
        if inspect.isclass(c) and issubclass(c, errors.ConductorError)
    ]  # fmt: skip
    return {c.__name__: c.exit_code for c in [*classes, QualityGateFailed]}


def cli_surface() -> dict[str, Any]:
    """The command tree of ``conductor`` (in help order) and the exit codes."""
    from ai_conductor.cli import app

    root = get_command(app)
    documented = (root.help or "").split("Exit codes: ")[1].strip()
    return {
        "commands": _command(root, ["conductor"]),
        "exit_codes_documented": documented,
        "exit_codes": _exit_codes(),
    }


_BOUND = re.compile(r"\b(gt|ge|lt|le)=(-?\d+)\.0\b")


def _signature(obj: Any) -> str:
    """The signature without ``_``-prefixed parameters (a base class's internals, e.g.
    pydantic-settings' ``_env_file``, which change with the dependency, not with this API)."""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(no signature)"
    shown = [p for p in signature.parameters.values() if not p.name.startswith("_")]
    # typing caches Annotated[...] by equality and Ge(ge=0) == Ge(ge=0.0): which spelling a
    # signature shows depends on which module built that annotation first (import order)
    return _BOUND.sub(r"\1=\2", str(signature.replace(parameters=shown)))


def _describe(obj: Any) -> dict[str, Any]:
    if inspect.isclass(obj):
        methods = {
            name: _signature(member)
            for name, member in sorted(vars(obj).items())
            if not name.startswith("_") and inspect.isfunction(member)
        }
        return {"kind": "class", "signature": _signature(obj), "methods": methods}
    if callable(obj):
        return {"kind": "function", "signature": _signature(obj)}
    return {"kind": type(obj).__name__}


def api_surface() -> dict[str, Any]:
    """``ai_conductor.__all__`` and what each name is: its kind and signatures."""
    import ai_conductor

    names = list(ai_conductor.__all__)
    return {"__all__": names, "names": {n: _describe(getattr(ai_conductor, n)) for n in names}}


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def test_the_cli_surface_matches_the_snapshot() -> None:
    assert _dump(cli_surface()) == CLI_SNAPSHOT.read_text(), (
        "the CLI changed: regenerate with `python -m tests.test_cli_surface --update` only if "
        "that was meant (commands, options and exit codes are a contract, DESIGN.md)"
    )


def test_the_public_python_api_matches_the_snapshot() -> None:
    assert _dump(api_surface()) == API_SNAPSHOT.read_text(), (
        "the public Python API changed: regenerate with `python -m tests.test_cli_surface "
        "--update` only if that was meant"
    )


def test_the_snapshot_names_the_contract_commands() -> None:
    """The snapshot itself is not empty or stale: DESIGN.md's commands and options are in it."""
    commands = {c["command"]: c for c in json.loads(CLI_SNAPSHOT.read_text())["commands"]}
    for name in ("analyze", "implement", "refine", "run", "orchestrate", "validate", "logs"):
        assert f"conductor {name}" in commands
    opts = {o for p in commands["conductor analyze"]["params"] for o in p["opts"]}
    assert {"--codebase", "--output", "--format", "--focus", "--fail-on"} <= opts


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="Rewrite the snapshots.")
    if parser.parse_args().update:
        SNAPSHOTS.mkdir(exist_ok=True)
        CLI_SNAPSHOT.write_text(_dump(cli_surface()))
        API_SNAPSHOT.write_text(_dump(api_surface()))
