"""The ``conductor`` command line, one module per command group. Help text is the user
documentation.

Layout: ``_app`` is the root command and :func:`main` (the ``conductor`` script); ``run``,
``validate``, ``analyze``, ``implement``, ``refine``, ``improve``, ``serve`` (and ``mcp``),
``deploy``, ``logs``, ``context``, ``findings``, ``maintenance``, ``metrics`` and ``server``
declare the commands (options and help); the ``_``-prefixed modules do the work, loaded when a
command runs, so ``conductor --help`` stays fast. ``_errors`` turns a ConductorError into its
message and exit code, once for every command; ``_options`` holds the shared options and the
choices (Enums). Exit codes: 0 success; 1 a quality gate failed; 2 bad usage or bad input;
3 the run itself failed.
"""

from __future__ import annotations

from ai_conductor.cli._app import app, main
from ai_conductor.cli.logs import parse_since

__all__ = ["app", "main", "parse_since"]
