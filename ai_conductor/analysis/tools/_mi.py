"""radon's maintainability index in linear time.

``radon.metrics.mi_visit`` gets its line counts from ``radon.raw.analyze``, which re-tokenises
a growing buffer for every line of a multi-line statement: quadratic, minutes on large literal
tables (the stdlib's ``html/entities.py``, ``pydoc_data/topics.py``). Here the same inputs
(Halstead volume, total complexity, logical lines, comment percentage counting multi-line
strings as comments) come from one AST walk and one ``tokenize`` pass, and go through radon's
own formula, ``radon.metrics.mi_compute``.
"""

from __future__ import annotations

import ast
import io
import tokenize

from radon.metrics import h_visit_ast, mi_compute
from radon.visitors import ComplexityVisitor

_LAYOUT = {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}


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


def maintainability(code: str) -> float:
    """radon's MI (multi-line strings count as comments), 0-100."""
    tree = ast.parse(code)
    sloc, comments, multi = line_counts(code)
    percent = (comments + multi) / sloc * 100 if sloc else 0.0
    lloc = sum(isinstance(node, ast.stmt) for node in ast.walk(tree))
    volume = h_visit_ast(tree).total.volume
    complexity = ComplexityVisitor.from_ast(tree).total_complexity
    return float(mi_compute(volume, complexity, lloc, percent))
