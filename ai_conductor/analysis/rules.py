"""What each tool's rules mean to us: category and severity defaults, and focus tags.

Focus areas (``conductor analyze --focus AREA``) select findings by category or by tag:

============  =====================================================================
area          findings selected
============  =====================================================================
security      category ``security`` (ruff S*, bandit, taint, semgrep security rules)
performance   category ``performance`` (ruff PERF*, blocking calls in async code)
complexity    categories ``complexity`` and ``maintainability`` (radon CC/MI, vulture)
database      SQL and ORM injection: S608/B608, S610/B610, S611/B611, taint sql-injection,
              SQL semgrep rules
api           HTTP/network clients and servers: S113/B113 no timeout, S501/B501 TLS
              verification off, S104/B104 binding all interfaces, S310/B310 urlopen,
              S321/B321 FTP, S312/B312 telnet, S323 unverified SSL context, weak TLS;
              taint SSRF, open redirect and cookie flags
algorithms    PERF*, radon CC, loop bugs B007/B020, SIM* simplifications
bugs          category ``bug``
style         category ``style``
============  =====================================================================

``equivalent`` tells the engine which findings of two tools are the same problem: ruff's S
rules mirror bandit's B codes by number (S608 == B608).
"""

from __future__ import annotations

import re

from ai_conductor.analysis.models import Category, Severity

FOCUS_AREAS: dict[str, str] = {
    "security": "injection, unsafe deserialisation, secrets, weak crypto (ruff S, bandit)",
    "performance": "slow idioms and blocking calls in async code (ruff PERF, ASYNC)",
    "complexity": "complex functions, low maintainability, dead code (radon, vulture)",
    "database": "SQL built from strings, raw ORM queries (S608, S610, S611)",
    "api": "HTTP/network clients and servers: timeouts, TLS verification, bind addresses",
    "algorithms": "loops and data-structure idioms: PERF, SIM, loop bugs, complexity",
    "bugs": "undefined names, syntax errors, mutable defaults, bare except (ruff F, B, E)",
    "style": "modernisation and simplification (ruff UP, SIM, E4/E7)",
}

_C, _S = Category, Severity
_SEC_HIGH = {"S102", "S301", "S302", "S307", "S501", "S506", "S602", "S605", "S608"}
_SEC_MEDIUM = {"S104", "S105", "S106", "S107", "S113", "S310", "S321", "S324", "S323"}
_SEC_LOW = {"S101", "S110", "S112", "S311", "S403", "S404", "S603", "S606", "S607"}

RUFF_RULES: dict[str, tuple[Category, Severity]] = {
    "syntax-error": (_C.BUG, _S.HIGH),
    "F401": (_C.MAINTAINABILITY, _S.LOW),
    "F841": (_C.MAINTAINABILITY, _S.LOW),
    "F541": (_C.STYLE, _S.LOW),
    "B006": (_C.BUG, _S.MEDIUM),
    "B008": (_C.BUG, _S.MEDIUM),
    "B007": (_C.MAINTAINABILITY, _S.LOW),
    "B904": (_C.MAINTAINABILITY, _S.LOW),
    "B905": (_C.BUG, _S.LOW),
    "E722": (_C.BUG, _S.MEDIUM),
    "BLE001": (_C.BUG, _S.MEDIUM),
}
"""Exact codes; everything else falls back to :data:`RUFF_PREFIXES`."""

RUFF_PREFIXES: tuple[tuple[str, Category, Severity], ...] = (
    ("F82", _C.BUG, _S.HIGH),  # undefined names
    ("F811", _C.BUG, _S.HIGH),  # redefinition of unused name
    ("F63", _C.BUG, _S.HIGH),  # comparisons that are always true/false
    ("F7", _C.BUG, _S.HIGH),  # break/return outside their block
    ("E9", _C.BUG, _S.HIGH),  # syntax and io errors
    ("F5", _C.BUG, _S.MEDIUM),  # broken %-format and str.format calls
    ("F6", _C.BUG, _S.MEDIUM),
    ("F", _C.MAINTAINABILITY, _S.LOW),
    ("E7", _C.STYLE, _S.LOW),
    ("E4", _C.STYLE, _S.LOW),
    ("B", _C.BUG, _S.MEDIUM),
    ("ASYNC1", _C.BUG, _S.MEDIUM),
    ("ASYNC", _C.PERFORMANCE, _S.MEDIUM),
    ("PERF", _C.PERFORMANCE, _S.LOW),
    ("PLE", _C.BUG, _S.MEDIUM),
    ("UP", _C.STYLE, _S.LOW),
    ("SIM", _C.STYLE, _S.LOW),
)


def ruff_rule(code: str) -> tuple[Category, Severity]:
    """Category and severity of a ruff rule code (S* security rules by the tables above)."""
    if code in RUFF_RULES:
        return RUFF_RULES[code]
    if code.startswith("S") and code[1:].isdigit():
        if code in _SEC_HIGH:
            return _C.SECURITY, _S.HIGH
        return _C.SECURITY, _S.LOW if code in _SEC_LOW else _S.MEDIUM
    for prefix, category, severity in RUFF_PREFIXES:
        if code.startswith(prefix):
            return category, severity
    return _C.STYLE, _S.LOW


_NUMBERED = re.compile(r"^([SB])(\d{3})$")
_DATABASE = {"608", "610", "611"}
_API = {"104", "113", "310", "312", "321", "323", "501", "502", "503", "504", "508", "509"}
_LOOPS = {"B007", "B020"}
_TAINT_API = ("server-side-request-forgery", "open-redirect", "cookie-")
_BY_CATEGORY = {
    Category.SECURITY: ("security",),
    Category.PERFORMANCE: ("performance",),
    Category.COMPLEXITY: ("complexity",),
    Category.MAINTAINABILITY: ("complexity",),
    Category.BUG: ("bugs",),
    Category.STYLE: ("style",),
}


def _bandit_number(tool: str, rule_id: str) -> str | None:
    """``608`` for ruff's S608 and bandit's B608, else None."""
    match = _NUMBERED.match(rule_id)
    if match is None or (tool, match[1]) not in {("ruff", "S"), ("bandit", "B")}:
        return None
    return match[2]


def tags_for(tool: str, rule_id: str, category: Category | str) -> list[str]:
    """The focus areas a finding belongs to (sorted)."""
    tags = set(_BY_CATEGORY.get(Category(category), ()))
    number = _bandit_number(tool, rule_id)
    if number in _DATABASE or (tool in ("semgrep", "taint") and "sql" in rule_id.lower()):
        tags.add("database")
    if number in _API or (tool == "taint" and rule_id.startswith(_TAINT_API)):
        tags.add("api")
    if (tool == "radon" and rule_id == "CC") or rule_id in _LOOPS:
        tags.add("algorithms")
    if tool == "ruff" and rule_id.startswith(("PERF", "SIM")):
        tags.add("algorithms")
    return sorted(tags)


_CLASS_BY_NUMBER: dict[str, str] = {
    **dict.fromkeys(("608", "610", "611"), "sql"),
    **dict.fromkeys(("602", "603", "604", "605", "606", "607", "609"), "command"),
    **dict.fromkeys(("102", "307"), "code"),
    **dict.fromkeys(("301", "302", "506"), "deserialization"),
    "310": "ssrf",
    **dict.fromkeys(("308", "701", "702", "703", "704"), "xss"),
    **dict.fromkeys(tuple(str(n) for n in range(313, 321)), "xxe"),
    **dict.fromkeys(("303", "324"), "weak-hash"),
    "113": "timeout",
    **dict.fromkeys(("323", "501"), "tls"),
}
"""ruff S / bandit B rule numbers by the vulnerability class they check (the classes of the
taint rules and of the labelled corpus, ``benchmarks/corpus/security``)."""


def check_class(tool: str, rule_id: str) -> str | None:
    """The vulnerability class a rule checks (``sql``, ``command``, ...), None for others."""
    if tool == "taint":
        from ai_conductor.analysis.taint import rule_infos

        info = rule_infos().get(rule_id)
        return info.klass if info else None
    number = _bandit_number(tool, rule_id)
    return _CLASS_BY_NUMBER.get(number) if number else None


def equivalent(a_tool: str, a_rule: str, b_tool: str, b_rule: str) -> bool:
    """True when two tools' rules report the same problem (ruff S608 and bandit B608)."""
    if a_tool == b_tool:
        return a_rule == b_rule
    number = _bandit_number(a_tool, a_rule)
    return number is not None and number == _bandit_number(b_tool, b_rule)
