"""The one plugin loader, for every component family: a built-in short name, a name a real
installed distribution registers in the family's entry-point group, and a ``module:Class`` path;
the protocol check; the one error for an unknown name.

The distribution is real: a ``*.dist-info`` directory with ``METADATA`` and ``entry_points.txt``
beside its package, in a directory put on ``sys.path``, found by ``importlib.metadata`` itself.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from ai_conductor import _plugins
from ai_conductor.agents.registry import FAMILY as AGENTS
from ai_conductor.agents.registry import Registry
from ai_conductor.analysis.tools import FAMILY as TOOLS
from ai_conductor.analysis.tools import load_tool
from ai_conductor.context.registry import FAMILY as STORES
from ai_conductor.context.registry import open_context_store
from ai_conductor.errors import ConfigError, UnknownAgentError, UnknownPluginError, UsageError
from ai_conductor.forge.config import ForgeConfig
from ai_conductor.forge.registry import FAMILY as FORGES
from ai_conductor.forge.registry import open_forge
from ai_conductor.implement.backends import FAMILY as BACKENDS
from ai_conductor.implement.backends import load_backend
from ai_conductor.settings import Settings
from ai_conductor.spec import validate_data

FAMILIES = [AGENTS, TOOLS, BACKENDS, STORES, FORGES]
GROUPS = {
    "agent": "ai_conductor.agents",
    "analyzer tool": "ai_conductor.analyzer_tools",
    "implementer backend": "ai_conductor.backends",
    "context store": "ai_conductor.context_stores",
    "forge": "ai_conductor.forges",
}

PACKAGE = """
class AcmeAgent:
    def __init__(self, config):
        self.config = config

    def execute(self, task, context):
        return {"acme": True}


def mute_agent(config):
    return object()  # no execute()


class AcmeTool:
    name = "acme"
    per_file = True
    parallel = False

    def __init__(self, options=None):
        self.options = options or {}

    def version(self):
        return "1.0"

    def config_key(self):
        return "acme"

    def run(self, root, files):
        raise NotImplementedError


class HalfTool:  # no run()
    name = "half"
    per_file = True
    parallel = False

    def version(self):
        return "1.0"

    def config_key(self):
        return ""


class AcmeBackend:
    name = "acme"

    def __init__(self, options=None):
        self.options = options or {}

    def propose(self, request, workspace, feedback):
        raise NotImplementedError


class AcmeStore:
    location = "acme:"

    def __init__(self, settings, embedder):
        self.embedder = embedder

    def store(self, record): ...
    def batch_store(self, records): ...
    def retrieve_context(self, workflow_id, limit=20): ...
    def search(self, query, k=10, filters=None): ...
    def close(self): ...


def acme_store(settings, *, embedder=None):
    return AcmeStore(settings, embedder)


def not_a_store(settings, *, embedder=None):
    return {}


class AcmeForge:
    name = "acme"

    def __init__(self, config):
        self.config = config

    def default_branch(self): ...
    def find_pull_request(self, head, base): ...
    def get_pull_request(self, number): ...
    def open_pull_request(self, draft): ...
    def update_pull_request(self, number, draft): ...
    def publish_review(self, number, review): ...
    def close(self): ...


class NotAnything:
    name = "nothing"


NOT_CALLABLE = 3
"""

ENTRY_POINTS = """\
[ai_conductor.agents]
acme = acme_plugins:AcmeAgent
mute = acme_plugins:mute_agent

[ai_conductor.analyzer_tools]
acme = acme_plugins:AcmeTool
half = acme_plugins:HalfTool

[ai_conductor.backends]
acme = acme_plugins:AcmeBackend

[ai_conductor.context_stores]
acme = acme_plugins:acme_store
empty = acme_plugins:not_a_store

[ai_conductor.forges]
acme = acme_plugins:AcmeForge
"""


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The ``acme-plugins`` distribution, installed on ``sys.path`` for this test only."""
    site = tmp_path / "site"
    (site / "acme_plugins").mkdir(parents=True)
    (site / "acme_plugins" / "__init__.py").write_text(PACKAGE)
    info = site / "acme_plugins-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugins\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(site))
    _plugins.refresh()
    yield tmp_path
    sys.modules.pop("acme_plugins", None)
    monkeypatch.undo()
    _plugins.refresh()


def _forge_config(kind: str) -> ForgeConfig:
    return ForgeConfig(kind, "https://forge.example/api", "o/r", SecretStr("t"))


@pytest.mark.parametrize(
    ("family", "name", "target"),
    [
        (AGENTS, "noop", "ai_conductor.agents.builtin:NoopAgent"),
        (TOOLS, "Ruff ", "ai_conductor.analysis.tools.ruff:RuffTool"),
        (BACKENDS, "fake", "ai_conductor.implement.backends.fake:FakeBackend"),
        (STORES, "embedded", "ai_conductor.context.registry:embedded_store"),
        (FORGES, "gitea", "ai_conductor.forge.gitea:GiteaForge"),
    ],
)
def test_a_short_name_loads_its_built_in(family: _plugins.Family, name: str, target: str) -> None:
    module, _, attr = target.partition(":")
    assert _plugins.load(family, name) is getattr(sys.modules[module], attr)
    assert _plugins.load(family, target) is getattr(sys.modules[module], attr)
    assert family.group == GROUPS[family.noun]


def test_agents_keep_exact_names_and_their_entry_point_group() -> None:
    with pytest.raises(UnknownAgentError):
        _plugins.load(AGENTS, "Noop")
    assert AGENTS.group == "ai_conductor.agents"  # a public contract for plugin authors


def test_every_family_loads_a_registered_plugin_by_name(acme: Path) -> None:
    agent = Registry().create("acme")
    assert type(agent).__name__ == "AcmeAgent"
    assert "acme" in Registry().names()
    spec = {"workflow_id": "w", "tasks": [{"id": "a", "agent": "acme"}]}
    assert validate_data(spec).tasks[0].agent == "acme"
    tool = load_tool("ACME", {"level": 2})
    assert (type(tool).__name__, vars(tool)["options"]) == ("AcmeTool", {"level": 2})
    assert type(load_backend("acme")).__name__ == "AcmeBackend"
    store = open_context_store(Settings(home=acme, context_store="acme"), embedder=None)
    assert (type(store).__name__, store.location) == ("AcmeStore", "acme:")
    forge = open_forge(_forge_config("acme"))
    assert (type(forge).__name__, forge.name) == ("AcmeForge", "acme")
    for family in FAMILIES:
        assert _plugins.names(family)["acme"].startswith("acme_plugins:")


def test_every_family_loads_a_module_class_path(acme: Path) -> None:
    assert type(Registry().create("acme_plugins:AcmeAgent")).__name__ == "AcmeAgent"
    assert type(load_tool("acme_plugins:AcmeTool")).__name__ == "AcmeTool"
    assert type(load_backend("acme_plugins:AcmeBackend")).__name__ == "AcmeBackend"
    plugged = Settings(home=acme, context_store="acme_plugins:acme_store")
    assert type(open_context_store(plugged, embedder=None)).__name__ == "AcmeStore"
    assert type(open_forge(_forge_config("acme_plugins:AcmeForge"))).__name__ == "AcmeForge"


def test_what_lacks_the_protocol_is_refused(acme: Path) -> None:
    with pytest.raises(
        UsageError, match=r"acme_plugins:HalfTool is not an analyzer tool: .*run\(\)"
    ):
        load_tool("half")
    with pytest.raises(UsageError, match=r"not an implementer backend: it needs name, propose\(\)"):
        load_backend("acme_plugins:AcmeTool")
    with pytest.raises(ConfigError, match=r"is not a forge: it needs name, default_branch\(\)"):
        open_forge(_forge_config("acme_plugins:NotAnything"))
    with pytest.raises(ConfigError, match="acme_plugins:not_a_store is not a context store"):
        open_context_store(Settings(home=acme, context_store="empty"), embedder=None)
    with pytest.raises(UnknownAgentError, match=r"is not an agent: it needs execute\(\)"):
        Registry().create("mute")
    with pytest.raises(UnknownAgentError, match="is not an agent"):
        Registry().factory("acme_plugins:NOT_CALLABLE")  # a factory must be callable


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.noun)
def test_an_unknown_name_is_one_error_naming_family_name_known_names_and_fixes(
    family: _plugins.Family, acme: Path
) -> None:
    with pytest.raises(UnknownPluginError) as info:
        _plugins.load(family, "nonesuch")
    message = str(info.value)
    assert message.startswith(f"unknown {family.noun} 'nonesuch'")
    for name in [*family.builtins, "acme"]:
        assert name in message
    assert f"entry-point group '{family.group}'" in message
    assert "'package.module:" in message
    assert info.value.exit_code == 2
    with pytest.raises(UnknownPluginError, match="cannot import no_such_pkg"):
        _plugins.load(family, "no_such_pkg.mod:Thing")
    with pytest.raises(UnknownPluginError, match="acme_plugins has no attribute 'Nope'"):
        _plugins.load(family, "acme_plugins:Nope")
