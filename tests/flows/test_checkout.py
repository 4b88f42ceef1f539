"""One clone helper for the audit, fleet and improve flows."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ai_conductor.flows.checkout import checkout


def _repo(tmp_path: Path, commits: int) -> Path:
    repo = tmp_path / "origin"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    for n in range(commits):
        (repo / "a.py").write_text(f"x = {n}\n")
        subprocess.run([*git, "add", "a.py"], check=True)
        subprocess.run([*git, "commit", "-qm", f"c{n}"], check=True)
    return repo


def test_a_git_url_is_cloned_shallow_when_asked_and_removed_on_exit(tmp_path: Path) -> None:
    url = _repo(tmp_path, 3).as_uri()
    with checkout(url, "main", purpose="audit", depth=1) as here:
        assert here.codebase_id == f"{url}#main"
        assert (here.path / "a.py").read_text() == "x = 2\n"
        count = subprocess.run(["git", "-C", str(here.path), "rev-list", "--count", "HEAD"],
                               capture_output=True, text=True, check=True)  # fmt: skip
        assert count.stdout.strip() == "1"
        assert here.path.name == "repo"
        assert here.path.parent.name.startswith("conductor-audit-")
        clone = here.path
    assert not clone.exists()


def test_a_directory_is_used_as_it_is(tmp_path: Path) -> None:
    with checkout(str(tmp_path), None, purpose="improve") as here:
        assert (here.path, here.codebase_id, here.credentials) == (tmp_path, str(tmp_path), None)
