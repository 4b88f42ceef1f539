"""The HTML report (issue 17, item 8): one self-contained file, escaped, with the trend from the
findings memory; loaded in headless Chromium (Debian package): no console errors, no request but
the file itself, filters and sorting work, and a screenshot is taken."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ai_conductor.analysis.models import Category, Hotspot, Severity, SkippedFile
from ai_conductor.reports import render
from ai_conductor.reports.html import _asset, _hash, to_html
from tests._browser import Browser, chromium
from tests.conftest import BIN, _missing, cli_env
from tests.reports.test_reports import finding, make_report

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
HOSTILE_NAME = "<img src=x onerror=window.__xss=3>.py"  # a legal file name


def hostile_report() -> str:
    report = make_report()
    report.codebase = f"/tmp/{XSS}"
    report.findings.append(finding(
        path=f"pkg/{HOSTILE_NAME}", message=f"name {XSS} is undefined", rule_name=XSS,
        severity=Severity.CRITICAL, category=Category.SECURITY, help_uri="javascript:alert(1)",
        also_reported_by=[XSS], fingerprint="hostile",
    ))  # fmt: skip
    report.fixed.append(finding(message=XSS, path=XSS))
    report.hotspots.append(Hotspot(path=XSS, name=XSS, line=1, complexity=30, rank="E", churn=1,
                                   score=60.0))  # fmt: skip
    report.skipped.append(SkippedFile(path=XSS, reason=XSS))
    report.warnings.append(XSS)
    return to_html(report)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(page)
    return parser.tags


def test_everything_from_the_codebase_is_escaped() -> None:
    page = hostile_report()
    assert page.count("<script>") == 1  # ours, at the end
    assert page.rstrip().endswith("</script></body></html>")
    for raw in ("<img", "<script>window", 'onerror="window', "javascript:"):
        assert raw not in page, raw
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in page
    assert f"pkg/{HOSTILE_NAME}".replace("<", "&lt;").replace(">", "&gt;") in page
    tags = [t for t, _ in tags_of(page)]
    assert "img" not in tags
    assert tags.count("script") == 1


def test_the_page_loads_nothing_from_anywhere() -> None:
    page = to_html(make_report())
    css, js = _asset("report.css"), _asset("report.js")
    tags = tags_of(page)
    assert [t for t, _ in tags if t in ("link", "iframe", "img", "object", "embed", "base")] == []
    for tag, attrs in tags:
        assert "src" not in attrs, tag  # no external script, image or frame
        if tag != "a":  # a link to a rule's documentation is navigation, not a resource
            for name in ("href", "xlink:href", "action", "poster", "srcset", "data"):
                assert name not in attrs, (tag, name)
    assert not re.search(r"url\(|@import|https?:", css)
    assert not re.search(r"https?:|fetch\(|XMLHttpRequest|WebSocket|import\(|innerHTML", js)
    [policy] = [a["content"] for t, a in tags if t == "meta" and a.get("http-equiv")]
    assert policy is not None
    assert policy.startswith("default-src 'none';")
    assert f"style-src '{_hash(css)}'" in policy  # only the inline style and script we wrote
    assert f"script-src '{_hash(js)}'" in policy
    assert f"<style>{css}</style>" in page
    assert f"<script>{js}</script>" in page


def test_render_html_and_the_format_is_listed() -> None:
    text, warnings = render(make_report(), "html")
    assert text.startswith("<!doctype html>")
    assert warnings == []


# --- a real codebase, analysed three times, shown in a real browser -----------------------


def conductor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "conductor"), *args], capture_output=True, text=True,
                          env=env, timeout=600)  # fmt: skip


BRANCHY = "def route(a, b, c, d):\n" + "".join(
    f"    if a == {i}:\n        return {i}\n" for i in range(9)
) + "    return b or c or d\n"  # fmt: skip


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A codebase analysed three times (fixes and new problems in between); the last run's
    HTML report is ``report.html``."""
    root = tmp_path_factory.mktemp("html")
    home = root / "home"
    env = cli_env("http://127.0.0.1:9/api", home)  # analyze never talks to Prefect
    code = root / "project"
    (code / "pkg" / "sub").mkdir(parents=True)
    (code / "pkg" / "calc.py").write_text("def run(expr):\n    return eval(expr)\n")
    (code / "pkg" / "sub" / "db.py").write_text(
        "def find(cur, name):\n    return cur.execute(\"SELECT * FROM t WHERE n = '%s'\" % name)\n"
    )
    (code / "pkg" / HOSTILE_NAME).write_text("import os\n")
    (code / "pkg" / "router.py").write_text(BRANCHY)
    first = conductor(env, "analyze", "--codebase", str(code), "-o", str(root / "r1.json"))
    assert first.returncode == 0, first.stderr
    (code / "pkg" / "calc.py").write_text("import ast\n\n\ndef run(expr):\n"
                                          "    return ast.literal_eval(expr)\n")  # fmt: skip
    (code / "pkg" / "cart.py").write_text(
        "def add(item, items=[]):\n    try:\n        items.append(item)\n    except:\n"
        "        pass\n    return items\n"
    )
    second = conductor(env, "analyze", "--codebase", str(code), "--format", "html")  # piped
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("<!doctype html>")
    (code / "pkg" / "cart.py").write_text("def add(item, items=[]):\n    items.append(item)\n"
                                          "    return items\n")  # fmt: skip
    (code / "pkg" / "deploy.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n"
    )
    third = conductor(env, "analyze", "--codebase", str(code), "-o", str(root / "report.htm"))
    assert third.returncode == 0, third.stderr
    shutil.move(root / "report.htm", root / "report.html")  # the extension chose the format
    return root, env


def trend_titles(page: str) -> list[str]:
    return re.findall(r"<title>run [0-9a-f]{8} · [^<]*</title>", page)


def test_the_trend_comes_from_the_findings_memory(analysed: tuple[Path, dict[str, str]]) -> None:
    root, env = analysed
    page = (root / "report.html").read_text()
    titles = trend_titles(page)
    assert len(titles) == 3
    counts = [tuple(int(n) for n in re.findall(r"(?:total|new|fixed) (\d+)", t)) for t in titles]
    first, second, third = counts
    assert first[1] == first[0] > 0  # everything was new
    assert first[2] == 0
    assert second[1] >= 2  # the mutable default and the bare except
    assert second[2] >= 1  # eval is gone
    assert third[1] >= 1  # shell=True
    assert third[2] >= 1  # the bare except
    listed = conductor(env, "findings", "list", "--json")
    assert page.count("<tr data-rank=") == len(json.loads(listed.stdout)) == third[0]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if chromium() is None:
        _missing("chromium is not installed (apt-get install chromium; .ci/run installs it)")
    b = Browser(tmp_path_factory.mktemp("chromium") / "profile")
    yield b
    b.close()


VISIBLE = "[...document.querySelectorAll('#findings tbody tr')].filter(r => !r.hidden)"


def visible(b: Browser, attribute: str) -> list[str]:
    return list(b.js(f"{VISIBLE}.map(r => r.dataset.{attribute})"))


def choose(b: Browser, field: str, value: str) -> None:
    """Set a filter as a person would: the value, then the event the page listens to."""
    event = "input" if field == "filter-path" else "change"
    b.js(f"(() => {{ const f = document.getElementById({field!r}); f.value = {value!r};"
         f" f.dispatchEvent(new Event({event!r})); }})()")  # fmt: skip


def test_the_report_in_headless_chromium(
    analysed: tuple[Path, dict[str, str]], browser: Browser
) -> None:
    root, _ = analysed
    b = browser
    b.open((root / "report.html").as_uri())
    shot = b.screenshot(root / "report.png")
    assert shot.stat().st_size > 20_000
    assert b.errors() == []
    assert b.requests() == [(root / "report.html").as_uri()]
    assert b.blocked() == {}
    total = b.js("document.querySelectorAll('#findings tbody tr').length")
    assert b.js("document.querySelector('.card.total .num').textContent") == str(total)
    assert b.js("document.getElementById('shown').textContent") == f"{total} of {total} shown"
    assert b.js("document.querySelectorAll('#trend svg g').length") == 3
    assert b.js("document.querySelectorAll('#hotspots svg g').length") >= 1
    hostile = b.js("[...document.querySelectorAll('td.loc')].map(t => t.textContent)"
                   ".find(t => t.includes('onerror'))")  # fmt: skip
    assert hostile.startswith(f"pkg/{HOSTILE_NAME}:")  # shown as text, never run
    assert b.js("typeof window.__xss") == "undefined"

    severities = visible(b, "severity")
    assert "high" in severities
    b.js("document.querySelector('input[name=severity][value=high]').click()")
    assert visible(b, "severity") == [s for s in severities if s != "high"]
    assert b.js("document.getElementById('shown').textContent") == (
        f"{total - severities.count('high')} of {total} shown"
    )
    b.js("document.querySelector('input[name=severity][value=high]').click()")
    choose(b, "filter-category", "bug")
    assert set(visible(b, "category")) == {"bug"}
    choose(b, "filter-category", "")
    choose(b, "filter-path", "SUB/")
    assert visible(b, "path") == ["pkg/sub/db.py"] * len(visible(b, "path"))
    assert visible(b, "path")
    choose(b, "filter-status", "new")
    assert visible(b, "path") == []  # db.py's findings exist since the first run
    assert b.js("document.getElementById('no-match').hidden") is False
    choose(b, "filter-path", "")
    assert set(visible(b, "status")) == {"new"}
    choose(b, "filter-status", "")
    assert len(visible(b, "status")) == total

    b.js("document.querySelector('th[data-key=location] button').click()")
    places = [(p, int(n)) for p, n in zip(visible(b, "path"), visible(b, "line"), strict=True)]
    assert places == sorted(places)
    assert b.js("document.querySelector('th[data-key=location]').getAttribute('aria-sort')") == (
        "ascending"
    )
    b.js("document.querySelector('th[data-key=location] button').click()")
    assert [(p, int(n)) for p, n in zip(visible(b, "path"), visible(b, "line"),
                                        strict=True)] == sorted(places, reverse=True)  # fmt: skip
    b.js("document.querySelector('th[data-key=severity] button').click()")
    ranks = [int(r) for r in visible(b, "rank")]
    assert ranks == sorted(ranks, reverse=True)
    assert b.errors() == []


def test_the_page_policy_stops_what_escaping_might_miss(tmp_path: Path, browser: Browser) -> None:
    page = hostile_report().replace(
        "</header>", '</header><script>window.__pwned = 1</script><img src="http://127.0.0.1:9/x">'
    )  # as if an escape had been forgotten
    path = tmp_path / "tampered.html"
    path.write_text(page)
    browser.open(path.as_uri())
    assert browser.js("typeof window.__pwned") == "undefined"
    assert browser.js("typeof window.__xss") == "undefined"
    assert browser.requests() == [path.as_uri(), "http://127.0.0.1:9/x"]
    assert browser.blocked() == {"http://127.0.0.1:9/x": "csp"}  # refused before any connection
    assert any("Content Security Policy" in e for e in browser.errors())
    assert browser.js("document.getElementById('shown').textContent").endswith("shown")
