"""The public-API guard: a change must not remove a name code outside the project may import.

Read statically (``ast``; nothing is imported, so no import side effects): the module-level
bindings of each touched module (imports, ``def``, ``class``, assignments, including those in
module-level ``if``/``try``/``with``/``for`` blocks, but not under ``if TYPE_CHECKING:``),
before and after the change.

Public modules: ``.py``/``.pyi`` files outside ``tests``/``test``/``testing``, ``docs``,
``examples``, ``scripts`` and ``benchmarks`` directories; not ``conftest.py``, ``test_*.py``,
``*_test.py``, ``setup.py``, ``noxfile.py`` or ``__main__.py``; no path part starting with ``_``
(``_private.py``, ``_impl/``), except ``__init__``. Public names: ``__all__`` when it is a
literal list or tuple of strings (it wins); otherwise every binding that does not start with
``_`` (dunders such as ``__version__`` count). A removed public name, a name dropped from a
literal ``__all__``, or a deleted public module refuses the change, unless API changes are
allowed (``--allow-api-changes``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from pathlib import PurePosixPath

NOT_PUBLIC_DIRS = frozenset(
    {"tests", "test", "testing", "docs", "examples", "scripts", "benchmarks"}
)
NOT_PUBLIC_FILES = frozenset({"conftest.py", "setup.py", "noxfile.py", "__main__.py"})


KEEP_API_RULE = (
    "Never remove a module-level name (an import, function, class or constant) from a module "
    "outside tests: code outside the project may import it. For an unused import there, keep "
    "the name as an explicit re-export (`from m import n as n`, or list it in `__all__`) "
    "instead of deleting it."
)
"""What LLM and agent backends are told (unless API changes are allowed)."""


def public_module(path: str) -> bool:
    """``path`` (POSIX, relative to the project) is a module outside code may import."""
    p = PurePosixPath(path)
    if p.suffix not in (".py", ".pyi") or p.name in NOT_PUBLIC_FILES:
        return False
    if p.stem.startswith("test_") or p.stem.endswith("_test"):
        return False
    if any(part in NOT_PUBLIC_DIRS for part in p.parts[:-1]):
        return False
    return not any(part.startswith("_") for part in (*p.parts[:-1], p.stem) if part != "__init__")


def public_name(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.expr | None, out: set[str]) -> None:
    if isinstance(node, ast.Name):
        out.add(node.id)
    elif isinstance(node, ast.Tuple | ast.List):
        for elt in node.elts:
            _targets(elt, out)
    elif isinstance(node, ast.Starred):
        _targets(node.value, out)


def _bind(body: Sequence[ast.stmt], out: set[str]) -> None:  # noqa: C901 (one case per statement)
    for node in body:
        if isinstance(node, ast.Import):
            out.update(a.asname or a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            out.update(a.asname or a.name for a in node.names if a.name != "*")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                _targets(target, out)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            _targets(node.target, out)
        elif isinstance(node, ast.If):
            _bind(node.orelse, out)
            if not _type_checking(node.test):
                _bind(node.body, out)
        elif isinstance(node, ast.Try | ast.TryStar):
            for part in (node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody):
                _bind(part, out)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                _targets(item.optional_vars, out)
            _bind(node.body, out)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.While):
            if not isinstance(node, ast.While):
                _targets(node.target, out)
            _bind(node.body, out)
            _bind(node.orelse, out)


def _literal_all(tree: ast.Module) -> set[str] | None:
    """``__all__`` when every module-level definition of it is literal strings, else None."""
    found: set[str] | None = None
    for node in tree.body:
        value: ast.expr | None = None
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                value = node.value
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "__all__":
                return None  # __all__.extend(...) / .append(...): dynamic
        if value is None:
            continue
        if not isinstance(value, ast.List | ast.Tuple) or not all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts
        ):
            return None
        names = {str(e.value) for e in value.elts if isinstance(e, ast.Constant)}
        found = names if found is None or isinstance(node, ast.Assign) else found | names
    return found


def bindings(source: str) -> tuple[set[str], set[str] | None] | None:
    """(module-level bindings, literal ``__all__`` or None), or None when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    bound: set[str] = set()
    _bind(tree.body, bound)
    return bound, _literal_all(tree)


def removed(before: str, after: str | None) -> list[str] | None:
    """Public names ``before`` has and ``after`` lost (None: ``after`` does not parse)."""
    old = bindings(before)
    if old is None:
        return []  # it did not parse before: nothing anyone could import
    new = bindings(after) if after is not None else (set(), set())
    if new is None:
        return None
    (bound, exported), (now_bound, now_exported) = old, new
    public = exported if exported is not None else {n for n in bound if public_name(n)}
    lost = (public & bound) - now_bound
    if exported is not None and now_exported is not None:
        lost |= exported - now_exported
    return sorted(lost)


def _names(found: list[str]) -> str:
    return ("name " if len(found) == 1 else "names ") + ", ".join(f"`{n}`" for n in found)


def api_refusal(touched: Sequence[str], original: Callable[[str], str | None],
                current: Callable[[str], str | None]) -> str | None:  # fmt: skip
    """Why the change breaks the public API (the first problems), or None."""
    problems = []
    for path in touched:
        before = original(path) if public_module(path) else None
        if before is None:
            continue
        after = current(path)
        lost = removed(before, after)
        if lost is None:
            problems.append(f"`{path}` no longer parses")
        elif lost and after is None:
            problems.append(f"deletes public module `{path}` ({_names(lost)})")
        elif lost:
            problems.append(f"removes public {_names(lost)} from `{path}`")
    if not problems:
        return None
    return (
        "; ".join(problems[:5]) + ": code outside the project may import it; keep the name (an "
        "unused import becomes an explicit re-export, `from m import n as n`), or allow API "
        "changes (--allow-api-changes)"
    )
