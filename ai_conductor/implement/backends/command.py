"""The ``command`` backend: an external coding agent (Claude Code, Cursor, Roo, aider, Codex) run
headless in the worktree. The agent edits files itself; the gate then verifies what changed.

Nothing the agent prints is executed: its output only becomes the summary (and, from JSON
results, tokens and cost). The prompt is one argv element, never passed through a shell.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ai_conductor.errors import (
    AgentError,
    AgentTimeout,
    AgentUnavailable,
    CommandFailed,
    UsageError,
)
from ai_conductor.implement.api import KEEP_API_RULE
from ai_conductor.implement.models import ChangeRequest, Proposal

# Headless forms, checked against each tool's documentation:
PRESETS: dict[str, tuple[str, ...]] = {
    # docs.claude.com/en/docs/claude-code/headless: -p prints one JSON result (result, usage,
    # total_cost_usd); acceptEdits auto-approves file edits, nothing else (no shell, no git).
    "claude": ("claude", "-p", "{prompt}", "--output-format", "json",
               "--permission-mode", "acceptEdits"),
    # cursor.com/docs/cli/headless: -p with --force applies edits; --trust skips the trust prompt
    # a fresh worktree raises (cursor-agent --help); json is one object with "result".
    "cursor": ("cursor-agent", "-p", "--force", "--trust", "--output-format", "json", "{prompt}"),
    # Roo Code's official CLI (github.com/RooCodeInc/Roo-Code, apps/cli): --print exits when the
    # task is done, -y auto-approves; json is one object with "content" and "cost".
    "roo": ("roo", "--print", "-y", "--ephemeral", "--output-format", "json", "{prompt}"),
    # aider.chat/docs/scripting.html, /docs/config/options.html: one --message then exit; never
    # commit, touch .gitignore or run shell commands; no repo map or history files in the tree.
    "aider": ("aider", "--message", "{prompt}", "--yes-always", "--no-auto-commits",
              "--no-dirty-commits", "--no-gitignore", "--no-check-update",
              "--no-show-model-warnings", "--no-suggest-shell-commands", "--no-pretty",
              "--map-tokens", "0", "--chat-history-file", os.devnull,
              "--input-history-file", os.devnull, "{files}"),
    # developers.openai.com/codex/noninteractive: `codex exec` runs one task; workspace-write
    # sandboxes writes to the working directory (--full-auto is gone from recent releases).
    "codex": ("codex", "exec", "--sandbox", "workspace-write", "--color", "never", "{prompt}"),
}  # fmt: skip
INSTALL = {
    "claude": "npm install -g @anthropic-ai/claude-code",
    "cursor": "curl https://cursor.com/install -fsS | bash",
    "roo": "curl -fsSL https://raw.githubusercontent.com/RooCodeInc/Roo-Code/main/apps/cli/install.sh | sh",  # noqa: E501
    "aider": "python -m pip install aider-install && aider-install",
    "codex": "npm install -g @openai/codex",
}
SUMMARY_CHARS = 1000
RULES = (
    "Rules: edit only files inside the current working directory; make the smallest change "
    "that fixes these findings and keeps the project's tests passing. Do not commit, do not run "
    "git, do not touch .git. Your change is verified by re-running the analyzer and the tests."
)


class CommandOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    preset: Literal["claude", "cursor", "roo", "aider", "codex"] | None = None
    """A known agent CLI, run with its documented headless flags (give this or ``argv``)."""
    argv: list[str] | None = Field(default=None, min_length=1)
    """Your own agent command (no shell): an element ``{prompt}`` (or containing it) receives
    the prompt; an element ``{files}`` expands to the files of the findings."""
    timeout: float = Field(default=900.0, gt=0)
    """Seconds one run may take; then the agent and all its children are killed."""
    extra_args: list[str] = Field(default_factory=list)
    """Appended to the command, e.g. ``[--model, sonnet]``."""
    env: dict[str, str] = Field(default_factory=dict)
    """Extra environment variables (literal values). The conductor's own environment, API keys
    included, is passed through unchanged: keep secrets there, not in options."""
    max_output: int = Field(default=64_000, ge=1_000)
    """Bytes of stdout and of stderr kept (the tail); the rest is spooled to disk and dropped."""

    @model_validator(mode="after")
    def _one_command(self) -> Self:
        if (self.preset is None) == (self.argv is None):
            raise ValueError(f"give exactly one of 'preset' ({', '.join(PRESETS)}) or 'argv'")
        if self.argv is not None and not any("{prompt}" in a for a in self.argv):
            raise ValueError("'argv' needs a '{prompt}' element, e.g. [my-agent, --task, {prompt}]")
        return self


class CommandBackend:
    """Runs a coding agent in the workspace; the proposal carries no edits, only a summary."""

    name = "command"

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        try:
            self.options = CommandOptions.model_validate(dict(options or {}))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}"
                                 for e in exc.errors())  # fmt: skip
            raise UsageError(f"command backend: invalid backend_options: {problems}") from exc

    def propose(self, request: ChangeRequest, workspace: Path, feedback: str | None) -> Proposal:
        """Run the agent in ``workspace`` with a prompt built from ``request`` and ``feedback``."""
        argv = self._argv(build_prompt(request, feedback), request)
        name, before = Path(argv[0]).name, _git_state(workspace)
        code, out, err = self._run(argv, workspace)
        if _git_state(workspace) != before:
            raise _fatal(f"command backend: {name} changed the worktree's git state (.git or "
                         "HEAD); refused: agents must not run git or commit")  # fmt: skip
        if code != 0:
            failed = CommandFailed(f"command backend: {name} exited with status {code}: "
                                   f"{err.strip()[-1000:] or out.strip()[-1000:]}",
                                   exit_code=code, stdout=out, stderr=err)  # fmt: skip
            tokens, cost = _spent(_json(out))  # what a failed run spent still counts
            failed.tokens, failed.cost_usd = tokens, cost  # type: ignore[attr-defined]
            raise failed
        return _proposal(out)

    def _argv(self, prompt: str, request: ChangeRequest) -> list[str]:
        o = self.options
        template = list(PRESETS[o.preset] if o.preset else o.argv or [])
        binary = shutil.which(template[0])  # absolute: the worktree is the agent's cwd
        binary = os.path.abspath(binary) if binary else None
        if binary is None:
            how = f"install it: {INSTALL[o.preset]}" if o.preset else "install it or fix the path"
            label = f"preset {o.preset!r} needs" if o.preset else "command backend needs"
            raise AgentUnavailable(f"{label} {template[0]!r}, which is not on PATH; {how}")
        files = sorted({f.path if not f.path.startswith("-") else f"./{f.path}"
                        for f in request.findings})  # fmt: skip
        argv = [binary]
        for part in [*template[1:], *o.extra_args]:
            argv.extend(files if part == "{files}" else [part.replace("{prompt}", prompt)])
        return argv

    def _run(self, argv: list[str], cwd: Path) -> tuple[int, str, str]:
        limit = self.options.max_output
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                proc = subprocess.Popen(
                    argv, cwd=cwd, env={**os.environ, **self.options.env},
                    stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True,
                )  # fmt: skip
            except OSError as exc:
                raise AgentUnavailable(f"command backend: cannot start {argv[0]}: {exc}") from exc
            try:
                code = proc.wait(timeout=self.options.timeout)
            except subprocess.TimeoutExpired:
                raise AgentTimeout(
                    f"command backend: {Path(argv[0]).name} ran longer than "
                    f"{self.options.timeout:g}s and was killed with its children "
                    "(raise option 'timeout')"
                ) from None
            finally:  # the whole session: a timed-out agent, or children it left behind
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            return code, _tail(out, limit), _tail(err, limit)


def build_prompt(request: ChangeRequest, feedback: str | None, most: int = 100) -> str:
    """The task for the agent: the findings, the guidance, the last rejection, the rules."""
    lines = [f"Fix these static-analysis findings ({request.group}) in the code in the current "
             "working directory:"]  # fmt: skip
    for f in request.findings[:most]:
        rule = f"{f.tool} {f.rule_id}" + (f" ({f.rule_name})" if f.rule_name else "")
        lines.append(f"- {f.path}:{f.line}: [{f.severity.value}] {rule}: {f.message}")
    if len(request.findings) > most:
        lines.append(f"- ... and {len(request.findings) - most} more in the same files")
    if request.instructions:
        lines.append(f"Focus: {request.instructions}")
    if request.history:
        lines.append("Past changes for these rules (repeat what was kept, avoid what was "
                     "rejected):")  # fmt: skip
        lines += [f"- {line}" for line in request.history]
    if feedback:
        lines.append(f"Your previous attempt was rejected: {feedback[:4000]}\nAvoid that now.")
    lines.append(RULES)
    if not request.allow_api_changes:
        lines.append(KEEP_API_RULE)
    return "\n".join(lines).replace("\0", "")


def _tail(spool: IO[bytes], limit: int) -> str:
    size = spool.seek(0, os.SEEK_END)
    spool.seek(max(0, size - limit))
    return spool.read().decode("utf-8", "replace")


def _git_state(workspace: Path) -> tuple[bytes | None, str]:
    """The worktree's ``.git`` file and HEAD commit: an agent must change neither."""
    dot_git = workspace / ".git"
    head = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=workspace, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=60, check=False,
        ).stdout.strip()  # fmt: skip
    return (dot_git.read_bytes() if dot_git.is_file() else None), head


def _json(stdout: str) -> dict[str, Any] | None:
    try:
        data = json.loads(stdout)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _spent(data: dict[str, Any] | None) -> tuple[int, float]:
    """Tokens and cost from a JSON result (claude: usage + total_cost_usd; roo: cost{})."""
    if data is None:
        return 0, 0.0
    usage, cost = _dict(data.get("usage")), _dict(data.get("cost"))
    keys = ("input_tokens", "output_tokens", "cache_creation_input_tokens",
            "cache_read_input_tokens")  # fmt: skip
    tokens = (
        sum(_num(usage, k) for k in keys) + _num(cost, "inputTokens") + _num(cost, "outputTokens")
    )
    return int(tokens), _num(data, "total_cost_usd") or _num(cost, "totalCost")


def _proposal(stdout: str) -> Proposal:
    """Summary, tokens and cost from a JSON result (claude, cursor, roo), else the text tail."""
    data = _json(stdout)
    if data is None:
        return Proposal(summary=stdout.strip()[-SUMMARY_CHARS:])
    text = data.get("result") or data.get("content") or ""
    text = text.strip()[:SUMMARY_CHARS] if isinstance(text, str) else ""
    tokens, cost_usd = _spent(data)
    if data.get("is_error") is True or data.get("success") is False:
        error = AgentError(f"command backend: the agent reported a failure: {text or 'no detail'}")
        error.tokens, error.cost_usd = tokens, cost_usd  # type: ignore[attr-defined]
        raise error
    return Proposal(summary=text, tokens=tokens, cost_usd=cost_usd)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _num(data: dict[str, Any], key: str) -> float:
    value = data.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return 0.0
    return float(value) if math.isfinite(value) and value > 0 else 0.0  # json allows Infinity


def _fatal(message: str) -> AgentError:
    error = AgentError(message)
    error.retryable = False
    return error
