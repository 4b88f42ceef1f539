"""The stack review on a small library laid out like real ones (src/ package with tests inside
it, a top-level test/ directory, a conftest.py), with the real deptry (issue 17, item 7): imports
that are meant are not findings, the mistakes beside them still are."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai_conductor.analysis.models import Finding, Severity
from ai_conductor.refine import review_stack
from ai_conductor.refine.imports import import_site, is_test_path
from tests.refine.conftest import make_repo

pytestmark = pytest.mark.usefixtures("conductor_home")

PYPROJECT = """[project]
name = "minilib"
version = "1.0"
requires-python = ">=3.10"
dependencies = ["packaging>=23"]

[project.optional-dependencies]
test = ["pytest>=8"]
"""
INIT = '''"""Annotations the way each Python wants them."""

import sys

import packaging.version

if sys.version_info >= (3, 14):
    import annotationlib

    def annotations_of(obj):
        return annotationlib.get_annotations(obj)
else:
    def annotations_of(obj):
        return getattr(obj, "__annotations__", {})


def version(text):
    return packaging.version.Version(text)
'''
TEST_IMPORTS = """import unittest

import pytest

import minilib


def test_a_missing_plugin_is_an_import_error():
    with pytest.raises(ImportError):
        import minilib_plugin_that_does_not_exist  # noqa: F401


def test_optional_speedups():
    try:
        import minilib_speedups
    except ImportError:
        pytest.skip("no speedups")
    assert minilib_speedups


class Old(unittest.TestCase):
    def test_gone(self):
        with self.assertRaises(ModuleNotFoundError):
            from minilib_gone import thing  # noqa: F401


def test_version():
    assert minilib.version("1.0")
"""
PLAIN_TEST = "import pytest\n\n\n@pytest.mark.parametrize('x', [1])\ndef test_x(x):\n    assert x\n"
LIBRARY = {
    "pyproject.toml": PYPROJECT,
    "src/minilib/__init__.py": INIT,
    "src/minilib/tests/__init__.py": "",
    "src/minilib/tests/test_imports.py": TEST_IMPORTS,
    "test/test_more.py": PLAIN_TEST,
    "conftest.py": PLAIN_TEST,
}


def dependency_findings(findings: list[Finding]) -> list[tuple[str, str, int, str]]:
    return [(f.rule_id, f.path, f.line, f.message) for f in findings
            if f.rule_id.startswith(("STACK-DEP", "STACK-STDLIB"))]  # fmt: skip


def test_meant_imports_of_a_real_library_layout_are_not_findings(tmp_path: Path) -> None:
    warnings: list[str] = []
    findings = review_stack(make_repo(tmp_path / "minilib", LIBRARY), "python", warnings=warnings)
    assert warnings == []  # deptry ran
    assert dependency_findings(findings) == []
    assert [f.rule_id for f in findings] == ["STACK-PYTHON-EOL"]  # the review did run: 3.10


def test_the_mistakes_beside_them_are_still_found(tmp_path: Path) -> None:
    files = {
        **LIBRARY,
        "src/minilib/compat.py": "import annotationlib\nimport pytest\nimport notinstalled_xyz\n",
        "test/test_http.py": "import responses\n",
    }
    found = {
        (f.rule_id, f.path, f.line): f
        for f in review_stack(make_repo(tmp_path / "minilib", files), "python")
    }
    assert {k for k in found if k[0].startswith(("STACK-DEP", "STACK-STDLIB"))} == {
        ("STACK-STDLIB-VERSION", "src/minilib/compat.py", 1),
        ("STACK-DEP-DEV-IMPORT", "src/minilib/compat.py", 2),  # shipped code importing pytest
        ("STACK-DEP-MISSING", "src/minilib/compat.py", 3),
        ("STACK-DEP-MISSING", "test/test_http.py", 1),
    }
    stdlib = found[("STACK-STDLIB-VERSION", "src/minilib/compat.py", 1)]
    assert stdlib.message.startswith(
        "'annotationlib' is in the standard library from Python 3.14 on, and requires-python "
        "admits 3.10-3.13, where the import fails"
    )
    assert "`if sys.version_info >= (3, 14):`" in stdlib.message
    test_dep = found[("STACK-DEP-MISSING", "test/test_http.py", 1)]
    assert test_dep.severity is Severity.LOW
    assert "as a test dependency" in test_dep.message
    assert "runtime" not in found[("STACK-DEP-MISSING", "src/minilib/compat.py", 3)].message


def test_a_newer_pythons_module_is_fine_when_every_admitted_python_has_it(tmp_path: Path) -> None:
    files = {**LIBRARY, "src/minilib/compat.py": "import tomllib\nimport annotationlib\n"}
    files["pyproject.toml"] = PYPROJECT.replace(">=3.10", ">=3.14")
    findings = review_stack(make_repo(tmp_path / "minilib", files), "python")
    assert dependency_findings(findings) == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [("tests/test_a.py", True), ("src/pkg/tests/helpers.py", True), ("test/x.py", True),
     ("conftest.py", True), ("pkg/test_io.py", True), ("pkg/io_test.py", True),
     ("pkg/testing.py", False), ("pkg/contest.py", False), ("src/pkg/attest.py", False)],
)  # fmt: skip
def test_what_counts_as_test_code(path: str, expected: bool) -> None:
    assert is_test_path(path) is expected


def test_import_sites_are_read_from_the_syntax_tree(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "from sys import version_info\n"  # 1
        "if version_info < (3, 11):\n"
        "    import tomli\n"  # 3: version checked
        "try:\n"
        "    import fast\n"  # 5: failure expected
        "except (OSError, ImportError):\n"
        "    import slow\n"  # 7: in the handler: not guarded
        "with pytest.raises(ValueError):\n"
        "    import other\n"  # 9: a different error: not guarded
        "try:\n"
        "    import nope\n"  # 11: only KeyError handled: not guarded
        "except KeyError:\n"
        "    pass\n"
    )
    site = {n: import_site(tmp_path, "m.py", n) for n in (3, 5, 7, 9, 11)}
    assert (site[3].version_checked, site[3].failure_expected) == (True, False)
    assert (site[5].version_checked, site[5].failure_expected) == (False, True)
    for n in (7, 9, 11):
        assert (site[n].version_checked, site[n].failure_expected) == (False, False), n
    assert not site[3].in_test
    assert import_site(tmp_path, "missing.py", 1).failure_expected is False
