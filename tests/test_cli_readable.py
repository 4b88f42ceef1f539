"""What a person sees in an 80-column terminal (issue 17, item 5): `findings list` keeps every
cell on one line, `analyze` shows the top findings and where the rest are, the progress bar never
shows `0/None`, and option help has no `<bool>` placeholders."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from ai_conductor.cli import app
from tests._tty import in_terminal
from tests.conftest import BIN, cli_env

DEEP = "src/company_product/subsystems/reporting/exporters/spreadsheet_exporter_helpers.py"
CODE = """\
import subprocess


def export(conn, table_name, user_supplied_filter_expression):
    query = "SELECT * FROM " + table_name + " WHERE " + user_supplied_filter_expression
    subprocess.call("rm -rf /tmp/export_" + table_name, shell=True)
    return eval(conn.execute(query).fetchone()[0])
"""


@pytest.fixture
def analysed(tmp_path: Path, conductor_home: Path) -> tuple[Path, dict[str, str]]:
    codebase = tmp_path / "project"
    (codebase / DEEP).parent.mkdir(parents=True)
    (codebase / DEEP).write_text(CODE)
    env = cli_env("http://127.0.0.1:9/api", conductor_home)  # never talks to Prefect
    return codebase, env


def _lines(shown: str) -> list[str]:
    return [line.rstrip() for line in shown.splitlines()]


def test_analyze_at_80_columns_shows_top_findings_where_the_rest_are_and_no_0_of_none(
    analysed: tuple[Path, dict[str, str]],
) -> None:
    codebase, env = analysed
    code, shown, raw = in_terminal([str(BIN / "conductor"), "analyze", "--codebase",
                                    str(codebase)], env)  # fmt: skip
    assert code == 0, shown
    assert "None" not in raw  # the progress bar's count before the total is known
    assert "analyzing" in raw  # the bar was drawn
    lines = _lines(shown[shown.index("analysis of ") :])  # after the (erased) progress bar
    assert all(len(line) <= 80 for line in lines), [x for x in lines if len(x) > 80]
    top = next(i for i, line in enumerate(lines) if line.startswith("top "))
    assert " finding(s), most severe first" in lines[top]
    heads = [line.split() for line in lines[top + 2 :] if line[:10].isalnum()]
    ranks = ["info", "low", "medium", "high", "critical"]
    assert heads
    assert [ranks.index(h[1]) for h in heads] == sorted(
        (ranks.index(h[1]) for h in heads), reverse=True
    )
    assert all(h[3].startswith("…") and "_helpers.py:" in h[3] for h in heads)
    hint = next(line for line in lines if line.startswith("all findings: "))
    run_id = hint.split("--run ")[1].strip()
    listed = subprocess.run(
        [str(BIN / "conductor"), "findings", "list", "--run", run_id, "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert len(json.loads(listed.stdout)) >= 3, listed.stderr
    assert any(line.startswith("a report file: conductor analyze --output") for line in lines)


def test_analyze_with_output_names_the_report_file(
    analysed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    codebase, env = analysed
    out = tmp_path / "report.json"
    code, shown, _ = in_terminal([str(BIN / "conductor"), "analyze", "--codebase",
                                  str(codebase), "--output", str(out)], env)  # fmt: skip
    assert code == 0, shown
    assert f"full report: {out}" in shown.replace("\n", "")
    assert "all findings:" not in shown


def test_findings_list_at_80_columns_keeps_every_cell_on_one_line(
    analysed: tuple[Path, dict[str, str]],
) -> None:
    codebase, env = analysed
    conductor = str(BIN / "conductor")
    subprocess.run([conductor, "analyze", "--codebase", str(codebase), "-o", "/dev/null",
                    "--format", "json"], env=env, check=True, capture_output=True)  # fmt: skip
    listed = subprocess.run([conductor, "findings", "list", "--json"], env=env,
                            capture_output=True, text=True, check=True)  # fmt: skip
    full = json.loads(listed.stdout)
    assert len(full) >= 3
    code, shown, _ = in_terminal([conductor, "findings", "list"], env)
    assert code == 0, shown
    lines = _lines(shown)
    assert all(len(line) <= 80 for line in lines), [x for x in lines if len(x) > 80]
    for finding in full:
        fp = finding["fingerprint"][:10]
        [at] = [i for i, line in enumerate(lines) if line.startswith(fp)]
        head = lines[at].split()
        assert head[1:3] == [finding["severity"], finding["status"]]
        assert head[3].startswith("…")
        assert head[3].endswith(f"_helpers.py:{finding['line']}")
        rule = f"{finding['tool']}:{finding['rule_id']}"
        body = lines[at + 1]
        assert body.startswith(f"  {rule} "), body
        message = " ".join(finding["message"].split())
        assert message.startswith(body[len(rule) + 3 :].removesuffix("…")), (body, message)
        assert body.endswith("…") == (len(f"  {rule} {message}") > 80)


def test_findings_list_uses_the_width_it_has() -> None:
    from io import StringIO

    from rich.console import Console

    from ai_conductor.analysis.models import Category, Finding, Severity
    from ai_conductor.cli.findings import _print_findings

    long = Finding(tool="ruff", rule_id="S608", rule_name="hardcoded-sql-expression",
                   severity=Severity.HIGH, category=Category.SECURITY, path=DEEP, line=5,
                   end_line=5, message="Possible SQL injection vector " * 5,
                   fingerprint="ab" * 20)  # fmt: skip
    wide = Console(width=160, file=StringIO(), color_system=None)
    _print_findings([long], wide)
    [row] = [line for line in wide.file.getvalue().splitlines() if line.startswith("abab")]  # type: ignore[attr-defined]
    assert len(row.rstrip()) <= 160
    assert "security" in row
    assert "ruff:S608 (hardcoded-sql-expression) Possible" in row
    assert row.rstrip().endswith("…")


def test_option_help_has_no_type_placeholders_and_flags_take_none() -> None:
    root = get_command(app)
    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(root, [])
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0, (path, result.output)
        assert "<bool>" not in result.output, path
        options = result.output.split("─ Options ")[1]  # arguments keep typer's <type> column
        for bad in ("<str>", "<path>", "<int>", "<float>", "<list["):
            assert bad not in options, (path, bad)
    analyze = runner.invoke(app, ["analyze", "--help"], env={"COLUMNS": "120"}).output
    assert re.search(r"--output\s+-o\s+FILE\b", analyze)  # column widths follow the longest option
    new_only = next(line for line in analyze.splitlines() if "--new-only" in line)
    assert new_only.split("--new-only")[1].strip().startswith("Report only findings new")
