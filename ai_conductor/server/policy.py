"""What a remote caller (MCP or HTTP) may make the server run, read, write and send.

A workflow spec can run any program: through the ``command`` agent, an import-path agent, an
implementer whose backend is ``command`` (a coding-agent CLI with any argv) or an import path,
a ``test_command`` of the implementer or refiner (run to verify changes), or an analyzer tool
named by import path (any importable callable). A spec can also point an LLM backend at any
endpoint (``base_url``) or name any Prefect block (``api_key_block``, ``llm_block``), which
would send the operator's API keys there. From a remote caller all of that is remote code
execution or credential theft, so the server refuses it unless the operator opts in with
``CONDUCTOR_SERVER_ALLOW_COMMANDS=1``.

Paths are confined whatever that setting: a task's relative ``codebase_path`` by spec validation
(and symlinks by the engine), an absolute one (the task's own codebase, which a local caller may
name anywhere) here, the codebase and spec files by the caller, and the path-valued
inputs (the analyzer's ``output``, the implementer's ``analysis``, semgrep's rules ``config``)
here: relative ones are taken relative to the task's codebase, every one must stay inside the
allowed roots, and the spec that runs carries them resolved (absolute).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from ai_conductor._specsource import Located
from ai_conductor.errors import SpecError, SpecProblem, UsageError
from ai_conductor.server.security import confine_path
from ai_conductor.settings import Settings
from ai_conductor.spec import AgentConfig, TaskSpec, WorkflowSpec, names_own_codebase

HINT = "the server refuses it unless started with CONDUCTOR_SERVER_ALLOW_COMMANDS=1"
ENDPOINT_OPTIONS: Final = ("base_url", "api_key_block", "llm_block")
"""LLM backend options that choose where requests (and the configured API keys) go."""


def check_backend(backend: str | None, settings: Settings, where: str) -> None:
    """Refuse a program-running implementer backend (``command`` or an import path)."""
    name = (backend or "").strip().lower()
    if not settings.server_allow_commands and (name == "command" or ":" in name):
        raise UsageError(f"{where}: backend {backend!r} runs arbitrary programs; {HINT}")


def check_tools(tools: Any, settings: Settings, where: str) -> None:
    """Refuse analyzer tools other than the built-in ones (an import path runs any code)."""
    from ai_conductor.analysis.tools import TOOLS

    if settings.server_allow_commands or tools is None:
        return
    if not isinstance(tools, list | tuple) or not all(isinstance(t, str) for t in tools):
        raise UsageError(f"{where}: tools must be a list of analyzer tool names")
    foreign = [t for t in tools if t.strip().lower() not in TOOLS]
    if foreign:
        raise UsageError(
            f"{where}: analyzer tool(s) {', '.join(map(repr, foreign))} are not built-in "
            f"tools ({', '.join(TOOLS)}); an import path loads and runs any code; {HINT}"
        )


def raw_problems(data: Any, settings: Settings) -> list[SpecProblem]:
    """Import paths (``package.module:Factory``) in a spec that is not validated yet.

    Validating a spec imports the modules its agents name, so a server checks the raw data
    first: nothing a remote caller names is imported unless the operator opted in.
    """
    if settings.server_allow_commands or not isinstance(data, Mapping):
        return []
    found: list[tuple[str, Any]] = []
    tasks = data.get("tasks")
    for i, task in enumerate(tasks if isinstance(tasks, list) else []):
        if isinstance(task, Mapping):
            found += [(f"tasks[{i}].{key}", task.get(key)) for key in ("agent", "agent_role")]
    agents = data.get("agents")
    for name, config in dict(agents if isinstance(agents, Mapping) else {}).items():
        if isinstance(config, Mapping):
            found += [(f"agents.{name}.{key}", config.get(key)) for key in ("role", "backend")]
    return [
        SpecProblem(
            f"{value!r} is an import path: loading it runs code from that module", where,
            hint=HINT,
        )
        for where, value in found
        if isinstance(value, str) and ":" in value
    ]  # fmt: skip


def check_raw(
    data: Any, settings: Settings, source: str = "<spec>", located: Located | None = None
) -> None:
    """:class:`SpecError` when a not-yet-validated spec names import paths (see above)."""
    problems = raw_problems(data, settings)
    if problems:
        raise SpecError(source, [located.place(p) for p in problems] if located else problems)


def check_spec(spec: WorkflowSpec, settings: Settings) -> None:
    """Refuse tasks and agents that run arbitrary programs or send keys elsewhere."""
    allow = settings.server_allow_commands
    for task in spec.tasks:
        name, config = spec.agent_config(task.agent)
        role = name.strip().lower()
        if not allow and (role == "command" or ":" in role):
            raise UsageError(f"task {task.id!r}: agent {task.agent!r} runs programs; {HINT}")
        _check_inputs(task, role, settings)
    for agent, config in spec.agents.items():
        check_backend(config.backend, settings, f"agent {agent!r}")
        _check_options(agent, config, settings)


def _check_inputs(task: TaskSpec, role: str, settings: Settings) -> None:
    if settings.server_allow_commands:
        return
    command = task.inputs.get("test_command")
    if command is not None and command != []:
        raise UsageError(
            f"task {task.id!r}: inputs.test_command runs a program; leave it unset (the "
            f"project's test command is detected) or give [] to run no tests; {HINT}"
        )
    if role == "analyzer":
        check_tools(task.inputs.get("tools"), settings, f"task {task.id!r}: inputs.tools")


def _check_options(agent: str, config: AgentConfig, settings: Settings) -> None:
    if settings.server_allow_commands:
        return
    options = config.options
    named = [key for key in ENDPOINT_OPTIONS if options.get(key) not in (None, "")]
    if named:
        raise UsageError(
            f"agent {agent!r}: option(s) {', '.join(named)} choose where LLM requests and the "
            f"server's API keys go; configure the endpoint on the server instead "
            f"(CONDUCTOR_LLM_BLOCK); {HINT}"
        )
    check_tools(options.get("tools"), settings, f"agent {agent!r}: options.tools")
    tool_options = options.get("tool_options")
    if tool_options is not None:
        if not isinstance(tool_options, Mapping):
            raise UsageError(f"agent {agent!r}: options.tool_options must map tool names")
        check_tools(list(tool_options), settings, f"agent {agent!r}: options.tool_options")


def confine_spec(spec: WorkflowSpec, codebase: Path, settings: Settings) -> WorkflowSpec:
    """``spec`` with its path-valued inputs resolved and confined to the allowed roots.

    The analyzer's ``output`` (a file to write: its folder must be inside the roots), the
    implementer's ``analysis`` (a file to read: it must exist inside the roots) and the
    semgrep tool's rules ``config``: relative paths are taken relative to the task's codebase
    (the workflow's codebase for agent options), never the server's working directory.
    """
    tasks = []
    for task in spec.tasks:
        name, _ = spec.agent_config(task.agent)
        base = codebase
        inputs = dict(task.inputs)
        where = f"task {task.id!r}: inputs"
        sub_dir = task.inputs.get("codebase_path")
        if isinstance(sub_dir, str) and names_own_codebase(sub_dir):  # confined like --codebase
            inputs["codebase_path"] = _path(sub_dir, settings, codebase, f"{where}.codebase_path")
            base = Path(inputs["codebase_path"])
        elif isinstance(sub_dir, str):
            base = (codebase / sub_dir).resolve()
        role = name.strip().lower()
        if role == "analyzer" and inputs.get("output"):
            inputs["output"] = _path(inputs["output"], settings, base, f"{where}.output", False)
        if role == "implementer" and inputs.get("analysis"):
            inputs["analysis"] = _path(inputs["analysis"], settings, base, f"{where}.analysis")
        tasks.append(task if inputs == task.inputs else task.model_copy(update={"inputs": inputs}))
    agents = {}
    for agent, config in spec.agents.items():
        tool_options = config.options.get("tool_options")
        if not isinstance(tool_options, Mapping):
            agents[agent] = config
            continue
        rules = tool_options.get("semgrep")
        if isinstance(rules, Mapping) and rules.get("config"):
            where = f"agent {agent!r}: options.tool_options.semgrep.config"
            semgrep = {**rules, "config": _path(rules["config"], settings, codebase, where)}
            options = {**config.options, "tool_options": {**tool_options, "semgrep": semgrep}}
            config = config.model_copy(update={"options": options})
        agents[agent] = config
    return spec.model_copy(update={"tasks": tasks, "agents": agents})


def _path(value: Any, settings: Settings, base: Path, what: str, must_exist: bool = True) -> str:
    if not isinstance(value, str):
        raise UsageError(f"{what} must be a path (a string), got {type(value).__name__}")
    return str(confine_path(value, settings, base=base, must_exist=must_exist, what=what))
