"""Benchmark: a project's isolated test environment, built (uv, then venv + pip) and reused.

One command: ``python benchmarks/environment.py``. Offline: a wheelhouse of pytest and its
dependencies is repacked from this interpreter, plus one tiny package the project requires;
pip and uv install only from it. For each installer, in a fresh ``CONDUCTOR_HOME``: (a) the
first ``resolve_environment`` (builds), (b) the second (reuses), (c) after requirements.txt
changed (rebuilds). Prints each time and the ratios b/a, c/a, and pip's a over uv's a.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ai_conductor.environment import resolve_environment
from ai_conductor.settings import Settings
from tests.environment._wheels import make_wheel, wheelhouse


def timed(root: Path, settings: Settings) -> tuple[float, bool]:
    started = time.perf_counter()
    env = resolve_environment(root, settings=settings)
    return time.perf_counter() - started, env.built


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="conductor-bench-env-") as tmp:
        base = Path(tmp)
        wheels = wheelhouse(base / "wheels")
        make_wheel(wheels, "bench-dep", "1.0", {"bench_dep/__init__.py": "X = 1\n"})
        make_wheel(wheels, "bench-extra", "1.0", {"bench_extra/__init__.py": "Y = 1\n"})
        for tool in ("PIP", "UV"):
            os.environ[f"{tool}_NO_INDEX"] = "1"
            os.environ[f"{tool}_FIND_LINKS"] = str(wheels)
        os.environ["UV_CACHE_DIR"] = str(base / "uv-cache")
        first: dict[str, float] = {}
        for installer in ("uv", "pip"):
            root = base / f"project-{installer}"
            (root / "tests").mkdir(parents=True)
            (root / "tests" / "test_a.py").write_text("def test_a():\n    pass\n")
            (root / "requirements.txt").write_text("bench-dep\n")
            settings = Settings(home=base / f"home-{installer}", env_installer=installer)  # type: ignore[arg-type]
            a, built_a = timed(root, settings)
            b, built_b = timed(root, settings)
            (root / "requirements.txt").write_text("bench-dep\nbench-extra\n")
            c, built_c = timed(root, settings)
            assert (built_a, built_b, built_c) == (True, False, True)
            first[installer] = a
            print(f"{installer:>3}: (a) build {a:6.2f}s  (b) reuse {b:6.3f}s  (c) rebuild {c:6.2f}s"
                  f"  b/a {b / a:.3f}  c/a {c / a:.2f}")  # fmt: skip
        print(f"pip build / uv build: {first['pip'] / first['uv']:.1f}x")


if __name__ == "__main__":
    main()
