"""Benchmark: the time publishing adds to an implement run.

One command: ``python benchmarks/publish.py [FILES]``. A project of FILES (default 10) modules,
each with one finding ruff fixes safely, is analysed and implemented (builtin backend, no
tests: the gate is the analyzer) in-process; then its kept changes are published three ways,
each timed: (a) first publish over file:// (push + open the pull request on the GitHub
stand-in of tests/forge, which validates every response with githubkit's models), (b) the same
again (nothing pushed, the pull request updated), (c) first publish over smart HTTP (`git
http-backend` behind Basic authentication). Prints the implement time and the ratios a/impl,
b/impl, c/impl (the share of a run that publishing adds).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TOKEN = "bench-token"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", *args], cwd=cwd,
                   check=True, capture_output=True)  # fmt: skip


def _project(root: Path, files: int) -> tuple[Path, Path]:
    bare = root / "remotes" / "shop.git"
    bare.mkdir(parents=True)
    _git(bare, "init", "-q", "--bare", "-b", "main")
    project = root / "shop"
    project.mkdir()
    for i in range(files):
        (project / f"mod{i}.py").write_text(f"import os\n\n\ndef f{i}() -> int:\n    return {i}\n")
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "init")
    _git(project, "remote", "add", "origin", bare.as_uri())
    _git(project, "push", "-q", "origin", "main")
    return project, bare


def main(files: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        root = Path(tmp)
        os.environ.update(CONDUCTOR_HOME=str(root / "home"), CONDUCTOR_FORGE="github",
                          GITHUB_REPOSITORY="acme/shop", GITHUB_TOKEN=TOKEN)  # fmt: skip
        from ai_conductor.analysis import analyze
        from ai_conductor.implement import ImplementOptions, implement
        from ai_conductor.publish import from_implement, publish
        from ai_conductor.settings import reload_settings
        from tests.forge._githttp import GitHttpServer
        from tests.forge._github import GitHubStandIn

        project, bare = _project(root, files)
        github = GitHubStandIn(bare, TOKEN).start()
        http = GitHttpServer(bare.parent, "x-access-token", TOKEN).start()
        os.environ["GITHUB_API_URL"] = github.url
        reload_settings()
        try:
            report = analyze(project)
            started = time.perf_counter()
            done = implement(report, project, ImplementOptions(test_command=[]))
            impl = time.perf_counter() - started
            publication = from_implement(done, report, project, workflow_id="implement",
                                         task_id="implement")  # fmt: skip
            timings = {}
            for label, branch_remote in (("a first, file://", None), ("b again, file://", None),
                                         ("c first, smart HTTP", http.url("shop"))):  # fmt: skip
                if branch_remote is not None:  # a fresh publication branch on the HTTP remote
                    _git(project, "remote", "set-url", "origin", branch_remote)
                    publication = publication.model_copy(update={"workflow_id": "http"})
                started = time.perf_counter()
                result = publish(project, publication)
                timings[label] = time.perf_counter() - started
                assert result.pull_request is not None, result
                assert len(result.commits) == files, result.left_out
        finally:
            github.stop()
            http.stop()
    kept = sum(c.status.value == "kept" for c in done.changes)
    print(f"implement: {files} file(s), {kept} kept, {impl:.2f}s")
    for label, seconds in timings.items():
        print(f"publish {label}: {seconds:.2f}s  ratio to implement {seconds / impl:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
