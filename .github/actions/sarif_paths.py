"""Make a conductor SARIF file's locations repository-relative; print its number of results.

``conductor analyze --codebase sub/dir`` writes URIs relative to ``sub/dir`` (base ``%SRCROOT%``).
GitHub code scanning resolves URIs against the repository root, so when the codebase is a
subdirectory of the workspace the URIs get that prefix and ``%SRCROOT%`` becomes the workspace.
Standard library only: it runs with whatever Python the runner has.

    python sarif_paths.py FILE --codebase DIR --workspace DIR
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

BASE = "%SRCROOT%"


def _prefix_uris(node: Any, prefix: str) -> None:
    if isinstance(node, dict):
        if node.get("uriBaseId") == BASE and isinstance(node.get("uri"), str):
            node["uri"] = prefix + node["uri"]
        for value in node.values():
            _prefix_uris(value, prefix)
    elif isinstance(node, list):
        for item in node:
            _prefix_uris(item, prefix)


def rebase(doc: dict[str, Any], codebase: Path, workspace: Path) -> bool:
    """Rewrite ``doc`` in place when ``codebase`` is strictly inside ``workspace``."""
    codebase, workspace = codebase.resolve(), workspace.resolve()
    if codebase == workspace or not codebase.is_relative_to(workspace):
        return False
    prefix = quote(codebase.relative_to(workspace).as_posix(), safe="/") + "/"
    for run in doc.get("runs", []):
        _prefix_uris(run.get("results", []), prefix)
        base = run.setdefault("originalUriBaseIds", {}).setdefault(BASE, {})
        base["uri"] = workspace.as_uri().rstrip("/") + "/"
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sarif", type=Path)
    parser.add_argument("--codebase", type=Path, required=True)
    parser.add_argument("--workspace", type=Path, required=True)
    args = parser.parse_args(argv)
    doc = json.loads(args.sarif.read_text(encoding="utf-8"))
    if rebase(doc, args.codebase, args.workspace):
        fd, tmp = tempfile.mkstemp(dir=args.sarif.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
        os.replace(tmp, args.sarif)
    print(sum(len(run.get("results", [])) for run in doc.get("runs", [])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
