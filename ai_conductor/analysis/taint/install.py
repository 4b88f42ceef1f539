"""Install Semgrep CE, the taint engine, into its own environment beside ai-conductor's.

    python -m ai_conductor.analysis.taint.install [--prefix DIR] [--check]

semgrep cannot share an environment with ai-conductor: every release pins dependencies that
ours rule out. Up to 1.135 it pins ``opentelemetry-api~=1.25`` (prefect needs >= 1.27) and
``rich~=13.5.2`` (typer needs >= 13.8); from 1.138 on it pins ``mcp==1.x`` (the MCP server
needs mcp >= 2.3) and ``click~=8.4.2``. So ``make``, the GitHub Action and
``deployments/install.sh`` run this module after installing ai-conductor: it creates
``DIR/semgrep-env`` (default: this interpreter's prefix, i.e. the venv) with ``python -m
venv``, installs the versions locked in ``semgrep-constraints.txt`` (package data; ``make
lock`` regenerates it), and links ``semgrep`` and ``semgrep-core`` next to this interpreter,
where the analyzer looks first. Nothing happens when the locked version is already there.
Without semgrep the analysis still runs and says in its warnings that taint analysis did not.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib import resources
from pathlib import Path

LOCK = "semgrep-constraints.txt"


def locked_version() -> str:
    text = resources.files(__package__).joinpath(LOCK).read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.lower().startswith("semgrep=="):
            return line.split("==", 1)[1].strip()
    raise SystemExit(f"{LOCK} does not pin semgrep")


def _core(env: Path) -> Path | None:
    cores = sorted(env.glob("lib/python3*/site-packages/semgrep/bin/semgrep-core"))
    return cores[0] if cores else None


def _version(core: Path | None) -> str | None:
    if core is None:
        return None
    out = subprocess.run([core, "-version"], capture_output=True, text=True, check=False).stdout
    words = out.split()
    return words[2] if len(words) > 2 else None


def _link(target: Path, bin_dir: Path) -> None:
    link = bin_dir / target.name
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)


def install(prefix: Path, bin_dir: Path) -> str:
    """Install (or find) the locked semgrep under ``prefix``; returns what was done."""
    env, version = prefix / "semgrep-env", locked_version()
    if _version(_core(env)) != version:
        lock = resources.files(__package__).joinpath(LOCK)
        with resources.as_file(lock) as constraints:
            subprocess.run([sys.executable, "-m", "venv", "--clear", env], check=True)
            pip = [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet",
                   "--disable-pip-version-check", "-c", str(constraints)]  # fmt: skip
            subprocess.run([*pip, f"semgrep=={version}"], check=True)
        done = f"installed semgrep {version} into {env}"
    else:
        done = f"semgrep {version} already in {env}"
    core = _core(env)
    if core is None or _version(core) != version:
        raise SystemExit(f"semgrep {version} did not install correctly into {env}")
    _link(core, bin_dir)
    _link(env / "bin" / "semgrep", bin_dir)
    return done + f"; linked semgrep and semgrep-core into {bin_dir}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ai_conductor.analysis.taint.install", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--prefix", type=Path, default=Path(sys.prefix),
        help="where semgrep-env is created (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--check", action="store_true",
        help="only say whether the locked semgrep is installed (exit 1 if not)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    bin_dir = Path(sys.executable).parent
    if args.check:
        version = _version(_core(args.prefix / "semgrep-env"))
        print(f"semgrep {version or 'not installed'} (locked: {locked_version()})")
        return 0 if version == locked_version() else 1
    try:
        print(install(args.prefix.resolve(), bin_dir))
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"could not install semgrep: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
