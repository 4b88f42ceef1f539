"""The public-API guard: statically read bindings, refused removals, kept re-exports."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ai_conductor.analysis import analyze
from ai_conductor.implement import ImplementOptions, implement
from ai_conductor.implement.api import KEEP_API_RULE, public_module, removed
from ai_conductor.implement.backends.command import build_prompt
from ai_conductor.implement.backends.llm import build_messages
from ai_conductor.implement.models import ChangeRequest
from tests.refine.conftest import PYTEST_CONFIG, make_repo

pytestmark = pytest.mark.usefixtures("conductor_home")

COMPAT = '''"""Names outside callers import from here."""

from collections.abc import Sequence


def first(items):
    return eval(items)[0]
'''
TESTS = "from shop.compat import first\n\n\ndef test_first():\n    assert first('[1]') == 1\n"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    files = {"shop/__init__.py": "", "shop/compat.py": COMPAT, "tests/test_compat.py": TESTS,
             "tests/helpers.py": "import os\n", "pyproject.toml": PYTEST_CONFIG}  # fmt: skip
    return make_repo(tmp_path / "shop", files)


@pytest.mark.parametrize(
    ("before", "after", "lost"),
    [
        ("from a import B\n", "", ["B"]),
        ("from a import B\n", "from a import B as B\n", []),
        ("import os.path\n", "import os\n", []),  # still binds `os`
        ("_x = 1\n", "", []),  # private
        ("__version__ = '1'\n", "", ["__version__"]),  # dunders are public
        ("__all__ = ['a']\nfrom m import a, b\n", "__all__ = ['a']\nfrom m import a\n", []),
        ("__all__ = ['a', 'b']\na = b = 1\n", "__all__ = ['a']\na = b = 1\n", ["b"]),
        ("try:\n    import json\nexcept ImportError:\n    json = None\n", "", ["json"]),
        ("if TYPE_CHECKING:\n    from t import T\n", "", []),  # not there at run time
        ("def f(): pass\nclass C: pass\n", "def f(): pass\n", ["C"]),
        ("x = 1\n", "x = (\n", None),  # no longer parses
    ],
)
def test_removed_names(before: str, after: str, lost: list[str] | None) -> None:
    assert removed(before, after) == lost


@pytest.mark.parametrize(
    ("path", "public"),
    [("shop/compat.py", True), ("shop/__init__.py", True), ("stubs/x.pyi", True),
     ("shop/_impl.py", False), ("_private/x.py", False), ("tests/test_x.py", False),
     ("conftest.py", False), ("shop/test_x.py", False), ("docs/conf.py", False),
     ("README.md", False)],
)  # fmt: skip
def test_public_modules(path: str, public: bool) -> None:
    assert public_module(path) is public


def test_a_change_removing_a_public_name_is_discarded_unless_allowed(shop: Path) -> None:
    drop = {"path": "shop/compat.py", "search": "from collections.abc import Sequence\n",
            "replace": ""}  # fmt: skip
    fix = {
        "path": "shop/compat.py",
        "search": "eval(items)",
        "replace": "__import__('json').loads(items)",
    }
    script = [[drop, fix]]
    options = ImplementOptions(backend="fake", backend_options={"script": script}, attempts=1,
                               focus=["security"])  # fmt: skip
    (change,) = implement(analyze(shop), shop, options).changes
    assert change.status.value == "discarded"
    assert "removes public name `Sequence` from `shop/compat.py`" in change.attempts[0].reason
    assert change.attempts[0].verification is not None
    assert change.attempts[0].verification.tests is None  # refused before the tests ran
    options.allow_api_changes = True
    (allowed,) = implement(analyze(shop), shop, options).changes
    assert allowed.status.value == "kept", allowed.attempts[-1].reason


def test_the_builtin_backend_keeps_unused_public_imports_as_re_exports(shop: Path) -> None:
    (shop / "tests" / "test_more.py").write_text("import sys\n\n\ndef test_ok():\n    pass\n")
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", "add", "-A"], cwd=shop, check=True
    )
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "t"],
                   cwd=shop, check=True)  # fmt: skip
    report = implement(analyze(shop), shop, ImplementOptions(backend="builtin"))
    changes = {c.group: c for c in report.changes}
    compat = changes["file:shop/compat.py"]
    assert compat.status.value == "kept", compat.attempts[-1].reason
    patch = Path(compat.patch or "").read_text()
    assert "+from collections.abc import Sequence as Sequence" in patch
    tests = changes["file:tests/test_more.py"]  # not public: the import is simply removed
    assert tests.status.value == "kept", tests.attempts[-1].reason
    assert "-import sys" in Path(tests.patch or "").read_text()
    assert "import sys" not in Path(tests.patch or "").read_text().split("-import sys", 1)[1]


def test_llm_and_agent_backends_are_told_to_keep_public_names(shop: Path) -> None:
    request = ChangeRequest(group="file:shop/compat.py", findings=analyze(shop).findings[:1])
    _, user = build_messages(request, shop, None)
    assert KEEP_API_RULE in user
    assert KEEP_API_RULE in build_prompt(request, None)
    allowed = request.model_copy(update={"allow_api_changes": True})
    assert KEEP_API_RULE not in build_messages(allowed, shop, None)[1]
