"""``analysis.json``: write it, read it back for ``conductor implement``, publish its JSON Schema.

``python -m ai_conductor.reports.json_report --schema > docs/analysis.schema.json`` regenerates
the committed schema (a test fails when it drifts from the models).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ai_conductor.analysis.models import SCHEMA_VERSION, AnalysisReport
from ai_conductor.errors import UsageError

SCHEMA_ID = "https://github.com/ai-conductor/ai-conductor/blob/main/docs/analysis.schema.json"
_MAX_ERRORS = 10
_RERUN = "re-run `conductor analyze` to write a fresh analysis.json"


def to_json(report: AnalysisReport) -> str:
    """The report as pretty-printed JSON (the content of ``analysis.json``)."""
    return report.model_dump_json(indent=2)


def analysis_json_schema() -> dict[str, Any]:
    """The JSON Schema of ``analysis.json`` (committed as ``docs/analysis.schema.json``)."""
    schema = AnalysisReport.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "ai-conductor analysis.json",
        "x-schema-version": SCHEMA_VERSION,
        **{k: v for k, v in schema.items() if k != "title"},
    }


def schema_text() -> str:
    """``analysis_json_schema()`` exactly as the committed file holds it."""
    return json.dumps(analysis_json_schema(), indent=2, ensure_ascii=False) + "\n"


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _check_version(data: dict[str, Any], where: str) -> None:
    version = data.get("schema_version")
    if version is None:
        raise UsageError(
            f"{where}: not an ai-conductor analysis file: `schema_version` is missing "
            f"(expected {SCHEMA_VERSION!r}); {_RERUN}"
        )
    expected_major = SCHEMA_VERSION.split(".")[0]
    major = str(version).split(".")[0]
    if not isinstance(version, str) or major != expected_major:
        raise UsageError(
            f"{where}: schema_version {version!r} is not supported: this ai-conductor reads "
            f"version {expected_major}.x ({SCHEMA_VERSION}); {_RERUN} with this version, "
            "or use the ai-conductor version that wrote the file"
        )


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{where}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg} "
            f"(line {exc.lineno}, column {exc.colno}); fix the file or {_RERUN}"
        ) from None
    except RecursionError:
        raise UsageError(f"{where}: invalid JSON: it nests too deeply; {_RERUN}") from None
    if not isinstance(data, dict):
        raise UsageError(
            f"{where}: expected a JSON object at the top level, found {type(data).__name__}; "
            f"{_RERUN}"
        )
    return data


def load_analysis(path: Path) -> AnalysisReport:
    """Read and validate an ``analysis.json``; every problem is a :class:`UsageError`."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"{where}: analysis file not found; run `conductor analyze` first "
            "or pass the path of an existing analysis.json"
        ) from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{where}: not UTF-8 text ({exc.reason}); {_RERUN}") from None
    except OSError as exc:
        raise UsageError(f"{where}: cannot read the analysis file: {exc.strerror}") from None
    data = _parse(text, where)
    _check_version(data, where)
    try:
        return AnalysisReport.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        lines = [f"  {_location(e['loc'])}: {e['msg']}" for e in errors[:_MAX_ERRORS]]
        if len(errors) > _MAX_ERRORS:
            lines.append(f"  ... and {len(errors) - _MAX_ERRORS} more")
        noun = "problem" if len(errors) == 1 else "problems"
        raise UsageError(
            f"{where}: invalid analysis file ({len(errors)} {noun}; fix them or {_RERUN}):\n"
            + "\n".join(lines)
        ) from None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["--schema"]:
        sys.stderr.write("usage: python -m ai_conductor.reports.json_report --schema\n")
        return 2
    sys.stdout.write(schema_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
