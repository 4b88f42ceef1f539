"""Parsing spec text while keeping line numbers, so every problem can point at its line."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

import yaml
from pydantic import ValidationError

from ai_conductor._speclint import valueless_keys
from ai_conductor.errors import SpecError, SpecProblem

MAX_NODES = 100_000
"""Most values a YAML spec may expand to (aliases counted at every place they are used): a
few hundred bytes of nested aliases (a "billion laughs") would otherwise expand to millions."""


@dataclass
class Located:
    """Parsed data plus the (line, column) of every location in it, 1-based."""

    data: Any
    marks: dict[str, tuple[int, int]] = field(default_factory=dict)
    warnings: list[SpecProblem] = field(default_factory=list)
    """What parses but probably says something else than meant (see :mod:`_speclint`)."""

    def find(self, location: str) -> tuple[int, int] | None:
        """The mark of a location, or of its nearest enclosing location that has one."""
        loc = location
        while loc:
            if loc in self.marks:
                return self.marks[loc]
            cut = max(loc.rfind("."), loc.rfind("["))
            loc = loc[:cut] if cut > 0 else ""
        return None

    def place(self, problem: SpecProblem) -> SpecProblem:
        mark = self.find(problem.location)
        if mark is None or problem.line is not None:
            return problem
        return replace(problem, line=mark[0], column=mark[1])


def join(base: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{base}[{part}]"
    return f"{base}.{part}" if base else str(part)


def location_of(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out = join(out, part)
    return out


def parse_document(text: str, source: str) -> Located:
    """Parse JSON (when the text starts with '{') or YAML; syntax errors name line and column."""
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(
                source,
                [SpecProblem(f"JSON syntax error: {exc.msg}", line=exc.lineno, column=exc.colno)],
            ) from None
        except RecursionError:
            raise SpecError(source, [SpecProblem("the JSON nests too deeply")]) from None
        located = Located(data)
        duplicates: list[SpecProblem] = []
        # JSON is YAML's flow style: reuse the YAML walk for line numbers and duplicate keys
        with contextlib.suppress(yaml.YAMLError, RecursionError):
            _walk(yaml.compose(text, Loader=yaml.SafeLoader), "", located, duplicates)
        if duplicates:
            raise SpecError(source, duplicates)
        return located
    try:  # the reader refuses control characters already in the constructor
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:
        raise SpecError(source, [SpecProblem(f"YAML syntax error: {exc}")]) from None
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        what = exc.problem or exc.context or "invalid YAML"
        problem = SpecProblem(f"YAML syntax error: {what}", line=line, column=column)
        raise SpecError(source, [problem]) from None
    except yaml.YAMLError as exc:
        raise SpecError(source, [SpecProblem(f"YAML syntax error: {exc}")]) from None
    except RecursionError:
        raise SpecError(
            source, [SpecProblem("the YAML nests too deeply (recursive alias?)")]
        ) from None
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:
        # PyYAML's constructors of explicitly tagged scalars ('!!timestamp x', '!!int 0x') fail
        # with plain Python errors instead of a YAMLError
        raise SpecError(
            source,
            [SpecProblem(f"YAML value that cannot be read ({type(exc).__name__}: {exc})",
                         hint="check explicit tags such as !!timestamp, !!int or !!float")],
        ) from None  # fmt: skip
    finally:
        loader.dispose()
    if data is None:
        raise SpecError(source, [SpecProblem("the spec is empty", hint="see workflows/*.yaml")])
    _check_size(node, source)
    located = Located(data)
    found: list[SpecProblem] = []
    _walk(node, "", located, found)
    if found:
        raise SpecError(source, found)
    return located


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_size(root: yaml.Node | None, source: str) -> None:
    """Refuse a document that expands past :data:`MAX_NODES` or refers to itself, before
    anything walks the expanded tree; each distinct node is visited once (sizes memoised)."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)] if root is not None else []
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            size = 1 + sum(sizes[id(child)] for child in _children(node))
            sizes[key] = min(size, MAX_NODES + 1)
            continue
        if key in sizes:
            continue
        if key in on_path:
            mark = node.start_mark
            problem = SpecProblem(
                "a YAML alias refers to a value that contains it (recursive alias)",
                line=mark.line + 1, column=mark.column + 1, hint="remove the alias",
            )  # fmt: skip
            raise SpecError(source, [problem])
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))
    if root is not None and sizes[id(root)] > MAX_NODES:
        raise SpecError(
            source,
            [SpecProblem(
                f"the spec expands to more than {MAX_NODES} values (nested YAML aliases?)",
                hint="write the values out, or use fewer nested '*alias' references",
            )],
        )  # fmt: skip


def _walk(node: yaml.Node | None, path: str, out: Located, dupes: list[SpecProblem]) -> None:
    if node is None:
        return
    out.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        out.warnings.extend(valueless_keys(node, path))
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = join(path, key)
            mark = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in seen:
                dupes.append(
                    SpecProblem(f"duplicate key {key!r}", child, *mark, hint="keep one of them")
                )
            seen.add(key)
            out.marks[child] = mark
            _walk(value_node, child, out, dupes)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, join(path, i), out, dupes)


def problems_from_validation(exc: ValidationError, located: Located | None) -> list[SpecProblem]:
    """Turn pydantic's errors into spec problems with locations, lines and hints."""
    problems = []
    for err in exc.errors(include_url=False):
        location = location_of(tuple(err["loc"]))
        kind = err["type"]
        if kind == "extra_forbidden":
            message, hint = (
                f"unknown key {str(err['loc'][-1])!r}",
                "remove it or check its spelling",
            )
        elif kind == "missing":
            message, hint = f"missing required key {str(err['loc'][-1])!r}", ""
        elif kind == "string_pattern_mismatch":
            message = f"{err['input']!r} is not a valid id"
            hint = "use only letters, digits, '-' and '_'"
        else:
            message, hint = err["msg"], ""
        problem = SpecProblem(message, location, hint=hint)
        problems.append(located.place(problem) if located else problem)
    return problems
