"""radon's measures of some files, run as a script under the interpreter that parses them.

``python radon_measure.py FILE...`` (from the codebase root) prints one JSON object: per file its
blocks' cyclomatic complexity and its maintainability index, or why it could not be read. Only
the standard library and radon are imported, and the syntax stays that of Python 3.8, so any
interpreter with radon installed runs it (see ``analysis/toolenv.py``).

radon's own ``mi_visit`` gets its line counts from ``radon.raw.analyze``, which re-tokenises a
growing buffer for every line of a multi-line statement: quadratic, minutes on large literal
tables (the stdlib's ``html/entities.py``, ``pydoc_data/topics.py``). Here the same inputs
(Halstead volume, total complexity, logical lines, comment percentage counting multi-line
strings as comments) come from one AST walk and one ``tokenize`` pass, and go through radon's
own formula, ``radon.metrics.mi_compute``.
"""

from __future__ import annotations

import ast
import io
import json
import sys
import tokenize
from typing import Any

from radon.complexity import add_inner_blocks, cc_rank, cc_visit_ast
from radon.metrics import h_visit_ast, mi_compute
from radon.visitors import ComplexityVisitor

_LAYOUT = {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
GRAMMAR = "{}.{}".format(*sys.version_info[:2])


def line_counts(code: str) -> tuple[int, int, int]:
    """(source lines, comment lines, lines of strings standing alone as statements)."""
    code_lines: set[int] = set()
    doc_lines: set[int] = set()
    comments = 0
    at_start = True
    pending: tokenize.TokenInfo | None = None
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.COMMENT:
            comments += 1
            continue
        if tok.type in _LAYOUT:
            if pending is not None and tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                doc_lines.update(range(pending.start[0], pending.end[0] + 1))
            elif pending is not None:
                code_lines.update(range(pending.start[0], pending.end[0] + 1))
            pending = None
            at_start = tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT) or at_start
            continue
        if pending is not None:
            code_lines.update(range(pending.start[0], pending.end[0] + 1))
            pending = None
        if tok.type == tokenize.STRING and at_start:
            pending = tok
        else:
            code_lines.update(range(tok.start[0], tok.end[0] + 1))
        at_start = False
    return len(code_lines - doc_lines), comments, len(doc_lines)


def maintainability(code: str, tree: ast.AST) -> float:
    """radon's MI (multi-line strings count as comments), 0-100."""
    sloc, comments, multi = line_counts(code)
    percent = (comments + multi) / sloc * 100 if sloc else 0.0
    lloc = sum(isinstance(node, ast.stmt) for node in ast.walk(tree))
    volume = h_visit_ast(tree).total.volume
    complexity = ComplexityVisitor.from_ast(tree).total_complexity
    return float(mi_compute(volume, complexity, lloc, percent))


def read_source(path: str) -> str:
    """The file's text, decoded as Python does (PEP 263 coding line, else UTF-8)."""
    with open(path, "rb") as handle:
        data = handle.read()
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def measure(path: str) -> dict[str, Any]:
    """Blocks as ``[name, line, end line, complexity, rank, is_class]`` and the MI."""
    code = read_source(path)
    tree = ast.parse(code)
    blocks = add_inner_blocks(cc_visit_ast(tree))
    blocks.sort(key=lambda b: (b.lineno, b.fullname))
    rows = [
        [b.fullname, b.lineno, int(b.endline), b.complexity, cc_rank(b.complexity),
         hasattr(b, "methods")]
        for b in blocks
    ]  # fmt: skip
    return {"blocks": rows, "mi": round(maintainability(code, tree), 2)}


def failure(exc: BaseException) -> str:
    """A short reason, equal for equal causes (summaries group by it)."""
    if isinstance(exc, SyntaxError):
        return f"syntax Python {GRAMMAR} cannot parse"
    if isinstance(exc, RecursionError):
        return f"nested too deeply for Python {GRAMMAR}'s parser"
    if isinstance(exc, OSError):
        return f"unreadable: {exc.strerror or exc}"
    if isinstance(exc, (UnicodeDecodeError, LookupError)):
        return f"undecodable: {exc}"
    return f"{type(exc).__name__}: {exc}"


def main(paths: list[str]) -> dict[str, Any]:
    files: dict[str, Any] = {}
    failures: dict[str, str] = {}
    for path in paths:
        try:
            files[path] = measure(path)
        except (OSError, SyntaxError, ValueError, RecursionError, LookupError, MemoryError) as exc:
            failures[path] = failure(exc)
    python = "{}.{}.{}".format(*sys.version_info[:3])
    return {"python": python, "files": files, "failures": failures}


if __name__ == "__main__":
    json.dump(main(sys.argv[1:]), sys.stdout)
