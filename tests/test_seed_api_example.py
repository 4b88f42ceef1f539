"""The seed guide's Python API example (shared/seed/ai-conductor-guide.md, "Python API") runs.

``SEED_EXAMPLE`` is that block, character for character. Two things stand between it and a run
here, and the test bridges both without editing the example's code:

- its import names the seed project's module path, ``ai_components.coordination.ai_conductor``;
  this package's import name is ``ai_conductor`` (a contract), so the test registers the seed's
  path as an alias of ``ai_conductor`` in ``sys.modules`` before running the block;
- its analyzer task names ``/path/to/code``, a placeholder no machine has. Run as written, the
  example must still run (no SpecError; the task fails with a clear message and its dependent is
  skipped). To analyse something, the placeholder (and only it) is replaced by a real temporary
  folder, because the analyzer must read real files.
"""

from __future__ import annotations

import contextlib
import io
import sys
import types
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api", "conductor_home")]

SEED_EXAMPLE = """import asyncio
from ai_components.coordination.ai_conductor import (
    Workflowconductor, TaskDefinition, AgentRole
)

async def run_analysis():
    # Create conductor
    conductor = Workflowconductor()
    
    # Create workflow
    workflow_id = "my_analysis_workflow"
    context = await conductor.create_workflow(workflow_id)
    
    # Define tasks
    tasks = [
        TaskDefinition(
            task_id="analyze",
            name="Analyze Codebase",
            agent_role=AgentRole.ANALYZER,
            inputs={"codebase_path": "/path/to/code"}
        ),
        TaskDefinition(
            task_id="optimize",
            name="Optimize Performance",
            agent_role=AgentRole.IMPLEMENTER,
            inputs={"focus": "performance"},
            dependencies=["analyze"]
        )
    ]
    
    # Execute workflow
    result = await conductor.execute_workflow(workflow_id, tasks)
    print(f"Results: {result.results}")

# Run the workflow
asyncio.run(run_analysis())
"""  # noqa: W293 - the guide's block has whitespace-only lines
GUIDE = REPO.parent / "shared" / "seed" / "ai-conductor-guide.md"
SLOW_PY = """def squares(values):
    result = []
    for v in values:
        result.append(v * v)
    return result
"""


def run_example(code: str, monkeypatch: pytest.MonkeyPatch, cwd: Path) -> tuple[str, dict]:
    """Run the block as a script would (in ``cwd``); what it printed, and the results it built."""
    import ai_conductor
    from ai_conductor import api

    seed = {"ai_components": types.ModuleType("ai_components"),
            "ai_components.coordination": types.ModuleType("ai_components.coordination"),
            "ai_components.coordination.ai_conductor": ai_conductor}  # fmt: skip
    for name, module in seed.items():
        monkeypatch.setitem(sys.modules, name, module)
    results: list[object] = []
    real = api.WorkflowConductor.execute_workflow

    async def keep(self: api.WorkflowConductor, *args: object, **kw: object) -> object:
        results.append(outcome := await real(self, *args, **kw))  # type: ignore[arg-type]
        return outcome

    monkeypatch.setattr(api.WorkflowConductor, "execute_workflow", keep)
    monkeypatch.chdir(cwd)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<seed guide: Python API>", "exec"), {"__name__": "__main__"})
    (result,) = results
    return out.getvalue(), {"result": result}


def test_the_embedded_example_is_the_guides() -> None:
    if not GUIDE.exists():  # a clone without the shared folder beside it: the copy above rules
        return
    block = GUIDE.read_text(encoding="utf-8").split("### Python API\n\n```python\n", 1)[1]
    assert block.split("```", 1)[0] == SEED_EXAMPLE


def test_the_guides_example_runs_on_a_real_codebase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "slow.py").write_text(SLOW_PY)
    (tmp_path / "elsewhere").mkdir()  # the script's working directory: not the codebase
    example = SEED_EXAMPLE.replace('"/path/to/code"', repr(str(code)))
    printed, got = run_example(example, monkeypatch, tmp_path / "elsewhere")
    result = got["result"]
    assert result.ok, {k: t.error for k, t in result.tasks.items()}
    assert printed.startswith("Results: {'analyze': {")
    analysis = result.results["analyze"]
    assert analysis["codebase"] == str(code.resolve())
    assert [f["rule_id"] for f in analysis["findings"]] == ["PERF401"]
    # optimize depends on analyze only, so it works where the analysis was made
    assert result.results["optimize"]["codebase"] == str(code.resolve())


def test_the_guides_example_as_written_runs_and_says_the_placeholder_is_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    printed, got = run_example(SEED_EXAMPLE, monkeypatch, tmp_path)
    result = got["result"]
    assert printed == "Results: {}\n"
    assert "codebase_path '/path/to/code' is not a folder on this machine" in (
        result.tasks["analyze"].error
    )
    assert result.tasks["optimize"].status.value == "skipped"


def test_an_own_codebase_is_part_of_the_tasks_cache_key(tmp_path: Path) -> None:
    """A change in a task's own codebase re-runs it; nothing changed: its result is reused."""
    from ai_conductor import run_spec

    own = tmp_path / "own"
    own.mkdir()
    (own / "m.py").write_text("x = 1\n")
    (tmp_path / "run").mkdir()
    spec = {"workflow_id": "own-key", "tasks": [
        {"id": "t", "agent": "noop", "inputs": {"codebase_path": str(own)}}]}  # fmt: skip
    states = [run_spec(spec, codebase=tmp_path / "run").tasks["t"].status.value]
    states.append(run_spec(spec, codebase=tmp_path / "run").tasks["t"].status.value)
    (own / "m.py").write_text("x = 2\n")
    states.append(run_spec(spec, codebase=tmp_path / "run").tasks["t"].status.value)
    assert states == ["completed", "reused", "completed"]
