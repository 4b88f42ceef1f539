"""How an import is written: in a test, under a Python version check, or where failing is expected.

deptry reports every import it cannot match to a declared dependency. Some of those are meant:
``import annotationlib`` under ``if sys.version_info >= (3, 14):`` (a standard-library module of a
newer Python), ``import plugin_that_does_not_exist`` inside ``pytest.raises(ImportError)`` or a
``try``/``except ImportError`` (an import that is supposed to fail), ``import pytest`` in a test.
:func:`import_site` reads the file once with :mod:`ast` and says which of these applies.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Final

TEST_DIRS: Final = frozenset({"test", "tests", "testing"})
_TEST_FILE: Final = re.compile(r"^(test_.*|.*_test|conftest)\.py$")
_EXPECTED_ERRORS: Final = frozenset({"ImportError", "ModuleNotFoundError", "Exception",
                                     "BaseException"})  # fmt: skip
_RAISES: Final = frozenset({"raises", "assertRaises", "assertRaisesRegex"})
MAX_BYTES: Final = 2_000_000


@dataclass(frozen=True)
class ImportSite:
    """Where one import statement stands."""

    in_test: bool = False
    """The file is a test (``tests/``, ``test_*.py``, ``*_test.py``, ``conftest.py``)."""
    version_checked: bool = False
    """Inside an ``if`` (either branch) that tests ``sys.version_info``."""
    failure_expected: bool = False
    """Inside ``try`` with an ``except ImportError`` (or broader) handler, or inside
    ``with pytest.raises(ImportError)`` / ``self.assertRaises(ImportError)``."""


def is_test_path(path: str) -> bool:
    """Test code by the usual layouts: a test directory anywhere in the path, or a test file."""
    parts = PurePosixPath(path).parts
    return any(p in TEST_DIRS for p in parts[:-1]) or bool(parts and _TEST_FILE.match(parts[-1]))


def _names(node: ast.expr | None) -> set[str]:
    """Names an exception expression mentions: ``ImportError``, ``(A, b.C)`` -> {A, C}."""
    if node is None:
        return {"BaseException"}  # a bare except
    if isinstance(node, ast.Tuple):
        return {n for e in node.elts for n in _names(e)}
    if isinstance(node, ast.Attribute):
        return {node.attr}
    return {node.id} if isinstance(node, ast.Name) else set()


def _checks_version(test: ast.expr) -> bool:
    for node in ast.walk(test):
        if isinstance(node, ast.Attribute) and node.attr in ("version_info", "hexversion"):
            return True
        if isinstance(node, ast.Name) and node.id in ("version_info", "hexversion"):
            return True
    return False


def _expects_import_error(item: ast.withitem) -> bool:
    call = item.context_expr
    if not isinstance(call, ast.Call) or not call.args:
        return False
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in _RAISES and bool(_names(call.args[0]) & _EXPECTED_ERRORS)


class _Sites(ast.NodeVisitor):
    """Line of every import statement -> (version checked, failure expected)."""

    def __init__(self) -> None:
        self.found: dict[int, tuple[bool, bool]] = {}
        self.version = 0
        self.expected = 0

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        self.found[node.lineno] = (self.version > 0, self.expected > 0)

    visit_Import = _import
    visit_ImportFrom = _import

    def visit_If(self, node: ast.If) -> None:
        checked = _checks_version(node.test)
        self.version += checked
        self.generic_visit(node)
        self.version -= checked

    def visit_Try(self, node: ast.Try) -> None:
        guarded = any(_names(h.type) & _EXPECTED_ERRORS for h in node.handlers)
        self.expected += guarded
        for statement in node.body:
            self.visit(statement)
        self.expected -= guarded
        for rest in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(rest)

    visit_TryStar = visit_Try  # type: ignore[assignment]

    def visit_With(self, node: ast.With) -> None:
        expected = any(_expects_import_error(item) for item in node.items)
        self.expected += expected
        self.generic_visit(node)
        self.expected -= expected


@lru_cache(maxsize=256)
def _sites_of(path: Path, size: int, mtime_ns: int) -> dict[int, tuple[bool, bool]]:
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return {}
    visitor = _Sites()
    visitor.visit(tree)
    return visitor.found


def import_site(root: Path, path: str, line: int) -> ImportSite:
    """How the import at ``path:line`` (relative to ``root``) is written."""
    file = root / path
    version_checked = failure_expected = False
    try:
        stat = file.stat()
        if not file.is_symlink() and stat.st_size <= MAX_BYTES:
            found = _sites_of(file, stat.st_size, stat.st_mtime_ns)
            version_checked, failure_expected = found.get(line, (False, False))
    except OSError:
        pass
    return ImportSite(is_test_path(path), version_checked, failure_expected)
