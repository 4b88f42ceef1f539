"""Which of deptry's reports are real problems, by how and where the import is written.

deptry knows the standard library of the Python it runs on and nothing about tests. Reviewed
here, before a report becomes a finding:

- a standard-library module of another Python (``annotationlib`` from 3.14, ``imp`` until 3.11)
  is never a missing dependency: nothing when every Python ``requires-python`` admits has it or
  the import is under a version check (or expected to fail), else a ``STACK-STDLIB-VERSION``
  finding naming the Pythons where the import fails;
- an import in a test that is expected to fail (``pytest.raises(ImportError)``, ``try``/``except
  ImportError``) is deliberate: nothing;
- a test importing a development dependency (``pytest`` from a ``test`` extra) is right: nothing;
  a test importing an undeclared package is told to declare a test dependency, not a runtime one.

The per-version module lists come from the ``stdlibs`` package (without it: this interpreter's).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ai_conductor.analysis.models import Category, Severity
from ai_conductor.refine.imports import import_site

Version = tuple[int, int]


@dataclass(frozen=True)
class Verdict:
    """What a deptry report becomes: its rule, severity, category, text and recommendation."""

    rule: str
    severity: Severity
    category: Category
    what: str
    recommendation: str


def stdlib_of(version: Version) -> frozenset[str] | None:
    """Top-level standard-library modules of ``version`` (None: not known here)."""
    try:
        import stdlibs
    except ImportError:
        current = sys.version_info[:2] == version
        return frozenset(sys.stdlib_module_names) if current else None
    name = f"{version[0]}.{version[1]}"
    return stdlibs.stdlib_module_names(name) if name in stdlibs.KNOWN_VERSIONS else None


def _spans(versions: Sequence[Version]) -> str:
    """(3,10), (3,11), (3,13) -> '3.10-3.11, 3.13'."""
    out: list[list[Version]] = []
    for v in sorted(versions):
        if out and v == (out[-1][-1][0], out[-1][-1][1] + 1):
            out[-1].append(v)
        else:
            out.append([v])
    return ", ".join(
        f"{r[0][0]}.{r[0][1]}" + (f"-{r[-1][0]}.{r[-1][1]}" if len(r) > 1 else "") for r in out
    )


KNOWN_3X = [(3, m) for m in range(40)]


def _having(top: str, versions: Sequence[Version]) -> tuple[list[Version], list[Version]]:
    """Of ``versions`` whose standard library is known: those that have ``top``, those that
    do not."""
    known = {v: names for v in versions if (names := stdlib_of(v)) is not None}
    return [v for v, n in known.items() if top in n], [v for v, n in known.items() if top not in n]


def _stdlib_verdict(top: str, versions: Sequence[Version]) -> Verdict | None:
    """A standard-library module imported without a version check: a problem only where a
    Python that requires-python admits lacks it."""
    has, lacks = _having(top, versions)
    if not lacks:
        return None
    if has:
        guard = f"if sys.version_info >= {min(has)}:" if min(has) > min(lacks) else (
            f"if sys.version_info < {min(lacks)}:"
        )  # fmt: skip
        fix = f"import it under `{guard}` (or in a try/except ImportError), or narrow "
        fix += "requires-python to the Pythons that have it"
    else:
        fix = "replace it: no Python that requires-python admits has it"
    return Verdict(
        "STACK-STDLIB-VERSION", Severity.MEDIUM, Category.BUG,
        f"{top!r} is in the standard library {_when(top)}, and requires-python admits "
        f"{_spans(lacks)}, where the import fails", fix,
    )  # fmt: skip


def _when(top: str) -> str:
    """'from Python 3.14 on', 'until Python 3.11' or 'of Python 3.5-3.8, 3.10'."""
    has, lacks = _having(top, KNOWN_3X)
    if lacks and min(has) > max(lacks):
        return f"from Python {min(has)[0]}.{min(has)[1]} on"
    if lacks and max(has) < min(lacks):
        return f"until Python {max(has)[0]}.{max(has)[1]}"
    return f"of Python {_spans(has)} only"


def review(
    code: str, module: str, root: Path, path: str, line: int | None,
    versions: Sequence[Version] | None, default: Verdict,
) -> Verdict | None:  # fmt: skip
    """The finding deptry's report ``code`` about ``module`` at ``path:line`` should be, or
    None when it is not a problem; ``versions``: the Pythons requires-python admits."""
    if line is None or code not in ("DEP001", "DEP003", "DEP004"):
        return default  # a declaration (unused, ...): nothing to read at an import
    site = import_site(root, path, line)
    top = module.split(".")[0]
    if code == "DEP001" and _having(top, KNOWN_3X)[0]:  # a standard-library module somewhere
        if site.version_checked or site.failure_expected or not versions:
            return None  # written for the Pythons that have it (or none are known)
        return _stdlib_verdict(top, versions)
    if not site.in_test:
        return default
    if code == "DEP004" or site.failure_expected:
        return None  # tests may use dev dependencies; imports meant to fail are tested
    return Verdict(
        default.rule, Severity.LOW, default.category,
        f"{module!r} is imported by tests but not declared",
        "declare it as a test dependency (a 'test' extra or a [dependency-groups] test "
        "group), not a runtime one",
    )  # fmt: skip
