"""Hostile codebases for the analyzer: symlink loops, links out of the tree, odd names, a huge
file, binary files, non-UTF-8 names and contents, a FIFO. The analysis finishes in bounded
time, never reports a file outside the codebase, and its JSON and SARIF stay valid."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

import pytest

from ai_conductor.analysis import analyze
from ai_conductor.reports import to_sarif
from tests.conftest import BIN, cli_env

pytestmark = pytest.mark.usefixtures("conductor_home")

HUGE_BYTES = 50 * 1024 * 1024
OUTSIDE_CODE = "def leak(text):\n    return eval(text)  # OUTSIDE-MARKER\n"
GOOD_CODE = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
# RFC 3986 URI-reference characters; '%' must start a %XX escape
URI_OK = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")


def _name(root: Path, raw: bytes) -> bytes:
    return os.fsencode(root) + b"/" + raw


def build_hostile_tree(base: Path, *, huge: bool = True) -> tuple[Path, Path]:
    """(codebase, outside): a codebase full of traps, and a directory next to it that holds
    code with a finding which must never be reported."""
    root, outside = base / "code", base / "outside"
    (root / "pkg").mkdir(parents=True)
    outside.mkdir()
    (outside / "victim.py").write_text(OUTSIDE_CODE)
    (outside / "pkg_out").mkdir()
    (outside / "pkg_out" / "deep.py").write_text(OUTSIDE_CODE)
    (root / "good.py").write_text(GOOD_CODE)
    (root / "pkg" / "__init__.py").write_text("")
    # symlink loops: files and directories
    os.symlink("loop_b.py", root / "loop_a.py")
    os.symlink("loop_a.py", root / "loop_b.py")
    os.symlink("..", root / "pkg" / "parent")  # dir -> its parent
    os.symlink(".", root / "self")
    os.symlink("self_loop.py", root / "self_loop.py")
    # symlinks out of the tree
    os.symlink("/etc", root / "etc_dir")
    os.symlink("/etc/passwd", root / "passwd.py")
    os.symlink(str(outside / "victim.py"), root / "victim_abs.py")
    os.symlink("../outside/victim.py", root / "victim_rel.py")
    os.symlink(str(outside / "pkg_out"), root / "pkg_out")
    os.symlink("../../outside", root / "pkg" / "up_out")
    os.symlink("/nonexistent/dangling.py", root / "dangling.py")
    # '..' inside names (a component cannot be '..' itself)
    (root / "..hidden.py").write_text("x = 1\n")
    (root / "a..b.py").write_text("y = 2\n")
    (root / "...").mkdir()
    (root / "..." / "dots.py").write_text("z = 3\n")
    # a huge file and binary files
    if huge:
        chunk = b"value = 'x' * 10\n" * 65536
        with (root / "huge.py").open("wb") as fh:
            for _ in range(HUGE_BYTES // len(chunk) + 1):
                fh.write(chunk)
    (root / "binary.py").write_bytes(bytes(range(256)) * 64)
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(4096))
    (root / "zeros.py").write_bytes(b"\0" * 10_000)
    # non-UTF-8 names and contents
    for raw, content in (
        (b"caf\xe9.py", b"name = 'caf\xe9'\n"),
        (b"bad\xff\xfename.py", b"v = 1\n"),
        (b"latin1_declared.py", b"# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n"),
        (b"latin1_undeclared.py", b"name = 'caf\xe9'\n"),
        (b"invalid_utf8.py", b"s = '\xc3\x28 \xa0\xa1 \xf0\x28\x8c\xbc'\n"),
        (b"bom.py", b"\xef\xbb\xbfx = 1\n"),
        (b"crlf\r.py", GOOD_CODE.encode()),
        (b"new\nline.py", GOOD_CODE.encode()),
        (b"quote\"and'back\\slash.py", GOOD_CODE.encode()),
        (b"%41%2e%2e.py", GOOD_CODE.encode()),
        (b"space name #1?.py", GOOD_CODE.encode()),
        (b"\xe2\x80\xaertl.py", GOOD_CODE.encode()),  # right-to-left override
        ("ünïcødé.py".encode(), GOOD_CODE.encode()),
    ):
        fd = os.open(_name(root, raw), os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, content)
        os.close(fd)
    os.mkfifo(root / "fifo.py")  # reading it would block forever
    return root, outside


def git_init(root: Path) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@e", "-c", "commit.gpgsign=false",
           "-c", "core.hooksPath=/dev/null"]  # fmt: skip
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True, capture_output=True)
    subprocess.run([*git, "commit", "-qm", "hostile"], cwd=root, check=True, capture_output=True)


def _inside(root: Path, rel: str) -> None:
    pure = PurePosixPath(rel)
    assert rel, rel
    assert not pure.is_absolute(), rel
    assert ".." not in pure.parts, rel
    assert (root / rel).resolve().is_relative_to(root.resolve()), rel


def check_report(data: dict[str, Any], root: Path, outside: Path) -> None:
    text = json.dumps(data)
    assert "OUTSIDE-MARKER" not in text
    assert str(outside) not in text
    assert "/etc/passwd" not in text.replace('"passwd.py"', "")
    paths = [f["path"] for f in data["findings"]]
    assert "good.py" in paths, "the ordinary file was analysed"
    for rel in paths:
        _inside(root, rel)
        assert not (root / rel).is_symlink(), rel
        assert rel not in ("victim_abs.py", "victim_rel.py", "passwd.py"), rel
        assert not rel.startswith(("pkg_out/", "etc_dir/", "self/", "pkg/parent/", "pkg/up_out"))
    skipped = {s["path"]: s["reason"] for s in data["skipped"]}
    assert "outside" in skipped["victim_abs.py"]
    assert "outside" in skipped["passwd.py"]
    assert "loop" in skipped["loop_a.py"]
    assert "binary" in skipped["binary.py"]
    # git lists no FIFOs at all; a walk lists it and must not read it (that would block)
    assert "not a regular file" in skipped.get("fifo.py", "not a regular file")


def check_sarif(sarif: dict[str, Any], root: Path, paths: set[str]) -> None:
    """Valid URI references that decode to exactly the reported files' paths."""
    assert sarif["version"] == "2.1.0"
    uris = []
    for run in sarif["runs"]:
        for result in run.get("results", []):
            for loc in result.get("locations", []):
                uris.append(loc["physicalLocation"]["artifactLocation"]["uri"])
        for artifact in run.get("artifacts", []):
            uris.append(artifact["location"]["uri"])
    assert uris
    weird = {"space name #1?.py", "%41%2e%2e.py", "ünïcødé.py", "new\nline.py"}
    assert weird <= paths, "files with odd names were analysed and reported"
    for uri in uris:
        assert URI_OK.match(uri), f"not a valid URI reference: {uri!r}"
        assert unquote(uri) in paths, f"{uri!r} names no reported file"
        _inside(root, unquote(uri))
    assert {unquote(u) for u in uris} == paths


@pytest.mark.timeout(240)  # a loop followed or a FIFO opened would hang: bounded time is the check
@pytest.mark.parametrize("vcs", ["walk", "git"])
def test_analyzer_library_on_a_hostile_tree(tmp_path: Path, vcs: str) -> None:
    root, outside = build_hostile_tree(tmp_path)
    if vcs == "git":
        git_init(root)
    started = time.monotonic()
    report = analyze(root)
    elapsed = time.monotonic() - started
    data = report.model_dump(mode="json")
    check_report(data, root, outside)
    assert "larger than" in {s.path: s.reason for s in report.skipped}["huge.py"]
    sarif = json.loads(json.dumps(to_sarif(report, category="hostile")[0]))
    check_sarif(sarif, root, {f.path for f in report.findings})
    print(f"\nhostile tree ({vcs}): analysed in {elapsed:.1f}s, {len(report.findings)} findings,"
          f" {len(report.skipped)} skipped")  # fmt: skip


@pytest.mark.slow
def test_conductor_analyze_cli_on_a_hostile_git_tree(tmp_path: Path, conductor_home: Path) -> None:
    root, outside = build_hostile_tree(tmp_path)
    git_init(root)
    env = cli_env("http://127.0.0.1:9/api", conductor_home)
    outputs = {fmt: tmp_path / f"report.{fmt}" for fmt in ("json", "sarif", "markdown")}
    for fmt, out in outputs.items():
        proc = subprocess.run(
            [str(BIN / "conductor"), "analyze", "--codebase", str(root), "-f", fmt, "-o",
             str(out)], env=env, capture_output=True, text=True, errors="replace", timeout=300,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "Traceback" not in proc.stderr + proc.stdout
    data = json.loads(outputs["json"].read_text())
    check_report(data, root, outside)
    check_sarif(
        json.loads(outputs["sarif"].read_text()), root, {f["path"] for f in data["findings"]}
    )
    markdown = outputs["markdown"].read_text()
    assert "OUTSIDE-MARKER" not in markdown
    assert str(outside) not in markdown
