"""ai-conductor's own taint specifications for Semgrep CE, and how they become one rule file.

The specifications are package data, written here (no third-party rule pack):

- ``frameworks/<name>.yaml``: where request data enters (``sources``) for Flask, Django,
  FastAPI/Starlette and the standard library's servers, plus each framework's own ``sinks``
  and ``sanitizers`` keyed by rule id (``flask.redirect`` is an ``open-redirect`` sink);
- ``classes/<class>.yaml``: one or more rules per vulnerability class, each with its most
  specific CWE, severity, message, the class's sinks and sanitizers (``mode: taint``, the
  default) or, for checks that are not about data flow (cookie flags, weak hashes),
  ``mode: search`` with the patterns to ``match``;
- ``common.yaml``: propagators (``list.append`` taints the list), lookups in constant tables
  and the number conversions that sanitize injection rules (a rule opts out with
  ``numbers_sanitize: false``), and the ``reach`` sources below.

:func:`semgrep_rules` composes them: every taint rule gets every framework's sources, so a
Flask view and a Django view are checked by the same rule. Semgrep CE's taint engine is
intra-procedural: request data must reach the sink inside one function (through variables,
containers, string building and calls, whose results are tainted by their arguments).

One more rule, ``reach``, has the sinks of every rule marked ``reach: true`` and as sources a
function's parameters, ``sys.argv``, the environment and ``input()``: data whose origin lies
beyond one function (only numbers and table lookups end it). Its findings are never reported;
precision-first merging (``ai_conductor.analysis.merge``) keeps a pattern finding of ruff or
bandit at a sink only when request data (a reported finding) or such data (a ``reach``
finding) reaches it. One rule for all those sinks, not one per class: it costs one rule's
time.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from ai_conductor.analysis.models import Severity

REACH = "reach"
"""Id of the rule whose findings are evidence for merging, never reported."""
SEMGREP_SEVERITY = {"critical": "ERROR", "high": "ERROR", "medium": "WARNING", "low": "INFO"}
OPTIONS = {
    "taint_assume_safe_indexes": True,  # CONFIG[request.args["k"]] is the config's value
    "taint_assume_safe_booleans": True,  # a comparison's result carries no request data
    "taint_assume_safe_numbers": True,
}


@dataclass(frozen=True)
class RuleInfo:
    """What the conductor knows about one of its rules."""

    id: str
    klass: str
    """The vulnerability class (the corpus and benchmark group by it)."""
    cwe: str
    """``CWE-89``."""
    cwe_title: str
    severity: Severity
    mode: str


def _load(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"taint specification {name} is not a mapping")
    return data


def _names(folder: str) -> list[str]:
    base = resources.files(__package__).joinpath(folder)
    return sorted(f"{folder}/{p.name}" for p in base.iterdir() if p.name.endswith(".yaml"))


@functools.lru_cache(maxsize=1)
def _specs() -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    frameworks = [_load(name) for name in _names("frameworks")]
    rules = [rule for name in _names("classes") for rule in _load(name)["rules"]]
    return frameworks, rules, _load("common.yaml")


def rule_infos() -> dict[str, RuleInfo]:
    """Every rule by id."""
    _, rules, _ = _specs()
    infos = {}
    for rule in rules:
        cwe, _, title = str(rule["cwe"]).partition(":")
        info = RuleInfo(
            id=rule["id"], klass=rule["class"], cwe=cwe.strip(), cwe_title=title.strip(),
            severity=Severity(rule["severity"]), mode=rule.get("mode", "taint"),
        )  # fmt: skip
        infos[info.id] = info
    infos[REACH] = RuleInfo(REACH, "", "", "data from beyond the function", Severity.INFO, "taint")
    return infos


def _taint_rule(
    rule: dict[str, Any], frameworks: list[dict[str, Any]], common: dict[str, Any]
) -> dict[str, Any]:
    rid = rule["id"]
    sinks = list(rule.get("sinks") or [])
    sanitizers = list(rule.get("sanitizers") or [])
    sources: list[Any] = []
    for fw in frameworks:
        sources.extend(fw.get("sources") or [])
        sinks.extend((fw.get("sinks") or {}).get(rid) or [])
        sanitizers.extend((fw.get("sanitizers") or {}).get(rid) or [])
    sanitizers.extend(common.get("lookups") or [])
    if rule.get("numbers_sanitize", True):
        sanitizers.extend(common.get("numbers") or [])
    if not sinks:
        raise ValueError(f"taint rule {rid} has no sinks in any specification")
    body: dict[str, Any] = {
        "mode": "taint",
        "options": dict(OPTIONS),
        "pattern-sources": sources,
        "pattern-sinks": sinks,
        "pattern-propagators": list(common.get("propagators") or []),
    }
    if sanitizers:
        body["pattern-sanitizers"] = sanitizers
    return body


@dataclass(frozen=True)
class Markers:
    """Text a file must contain for a group of rules to find anything in it: any of
    ``literals``, a ``word`` standing alone (no letter, digit or ``_`` before or after it), a
    ``head`` with none before it (``sqlalchemy.text(`` but not ``context(``), a ``call`` with
    none and no ``.`` before it (``eval(`` but not ``re.compile(``) or a match of one of
    ``patterns``.

    Plain substring tests and small regular expressions that each begin with a literal: a
    single alternation of all of them, with a word boundary first, cost seconds on the stdlib
    slice (Python's ``re`` then tries every alternative at every position); these cost
    milliseconds. They may over-approximate (an extra file costs only semgrep time), never
    miss a file a rule could match.
    """

    literals: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    heads: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()

    def search(self, text: str) -> bool:
        return (
            any(lit in text for lit in self.literals)
            or any(_alone(text, w, before="", after=True) for w in self.words)
            or any(_alone(text, h, before="", after=False) for h in self.heads)
            or any(_alone(text, c, before=".", after=False) for c in self.calls)
            or any(p.search(text) for p in self.patterns)
        )


def _alone(text: str, word: str, *, before: str, after: bool) -> bool:
    """Whether ``word`` occurs with no identifier character (or one of ``before``) just
    before it and, when ``after``, no identifier character just after it."""
    at = text.find(word)
    while at >= 0:
        prev = text[at - 1] if at else " "
        nxt = text[at + len(word)] if after and at + len(word) < len(text) else " "
        if not (prev.isalnum() or prev == "_" or prev in before) and not (
            nxt.isalnum() or nxt == "_"
        ):
            return True
        at = text.find(word, at + 1)
    return False


WEB_MARKERS = Markers(
    literals=(".recv", "BaseHTTPRequestHandler"),
    words=("flask", "django", "fastapi", "starlette", "werkzeug", "rest_framework",
           "http.server", "socketserver", "cgi"),
    patterns=(re.compile(r"\.(GET|POST|COOKIES|META|FILES|query_params|path_params)\b"),
              re.compile(r"def \w+\(\s*environ\s*,"),
              re.compile(r"@\w+\.(route|get|post|put|patch|delete|api_route|websocket)\(")),
)  # fmt: skip
"""Text every file with a modelled source contains (an import, an attribute, a route
decorator). Files without it cannot hold request data for these rules, so the request-data
rules skip them: most of a codebase that is not a web application, at a fraction of the cost."""


REACH_MARKERS = Markers(
    literals=(".execute(", ".executemany(", ".executescript(", ".exec_driver_sql(", ".raw(",
              "RawSQL(", "read_sql", "system(", "popen(", "subprocess", "posix_spawn", "pickle",
              "marshal.", "yaml.", "dill.", "urlopen(", "urlretrieve(", "urllib.request.Request(",
              "requests.", "httpx", "aiohttp", "HTTPConnection(", "HTTPSConnection(", "Markup(",
              "mark_safe(", "SafeString(", "Response(", "Template(", "from_string(", "lxml",
              "xml.sax", "pulldom", "minidom"),
    heads=("text(",),
    calls=("eval(", "exec(", "compile("),
    patterns=(re.compile(r"exec[lv]p?e?\("), re.compile(r"spawn[lv]p?e?\(")),
)  # fmt: skip
"""Text every file with a sink of the ``reach`` rule contains; the others skip that rule."""


def reaches_sinks(text: str) -> bool:
    """Whether the ``reach`` rule can find anything in this source."""
    return REACH_MARKERS.search(text)


def reads_requests(text: str) -> bool:
    """Whether the request-data rules can find anything in this source."""
    return WEB_MARKERS.search(text)


GROUPS = ("web", "search", "reach")


@functools.lru_cache(maxsize=8)
def semgrep_rules(group: str = "all") -> str:
    """The composed Semgrep rule file (JSON, which Semgrep reads like YAML).

    ``group``: ``web`` (the rules whose sources are request data), ``search`` (cookie flags,
    weak hashes: every file), ``reach``, several joined with ``+``, or ``all``.
    """
    wanted = set(GROUPS) if group == "all" else set(group.split("+"))
    if not wanted or wanted - set(GROUPS):
        raise ValueError(f"unknown rule group {group!r}")
    frameworks, rules, common = _specs()
    known = {r["id"] for r in rules}
    for fw in frameworks:
        for part in ("sinks", "sanitizers"):
            unknown = set(fw.get(part) or {}) - known
            if unknown:
                raise ValueError(f"{fw['framework']}: {part} for unknown rules {sorted(unknown)}")
    out: list[dict[str, Any]] = []
    reach_sinks: list[dict[str, Any]] = []
    for rule in rules:
        info = rule_infos()[rule["id"]]
        entry: dict[str, Any] = {
            "id": rule["id"],
            "languages": ["python"],
            "severity": SEMGREP_SEVERITY[rule["severity"]],
            "message": " ".join(str(rule["message"]).split()),
            "metadata": {"cwe": [rule["cwe"]], "category": "security", "class": info.klass},
        }
        if info.mode == "search":
            entry["pattern-either"] = rule["match"]
        else:
            entry.update(_taint_rule(rule, frameworks, common))
            if rule.get("reach"):  # a sink marked reach: false is not one a pattern rule checks
                reach_sinks.extend(s for s in entry["pattern-sinks"] if s.get("reach", True))
            entry["pattern-sinks"] = [_strip(s) for s in entry["pattern-sinks"]]
        if {"taint": "web", "search": "search"}[info.mode] in wanted:
            out.append(entry)
    if "reach" in wanted:
        out.append(_reach_rule([_strip(s) for s in reach_sinks], common))
    return json.dumps({"rules": out}, indent=1, sort_keys=True)


def _strip(sink: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in sink.items() if k != "reach"}


def _reach_rule(sinks: list[Any], common: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": REACH,
        "languages": ["python"],
        "severity": "INFO",
        "message": "data from beyond the function reaches a sink (evidence for merging)",
        "mode": "taint",
        "options": dict(OPTIONS),
        "pattern-sources": list(common["reach"]),
        "pattern-sinks": sinks,
        "pattern-sanitizers": [*common["lookups"], *common["numbers"]],
        "pattern-propagators": list(common.get("propagators") or []),
    }


def rules_digest() -> str:
    """Changes whenever any specification changes (part of the analysis cache key)."""
    return hashlib.sha256(semgrep_rules().encode()).hexdigest()[:16]
