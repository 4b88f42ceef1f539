"""Real wheels made offline, for building environments in tests without an index.

``make_wheel`` writes a tiny pure-Python wheel; ``repack`` turns a distribution installed in
the test interpreter (pytest and its dependencies) back into a wheel. Both are ordinary wheels
pip and uv install from a ``--find-links`` directory.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.metadata as md
import io
import zipfile
from pathlib import Path

PYTEST_WHEELS = ("pytest", "pluggy", "iniconfig", "packaging", "pygments")
"""pytest and what it needs on Python 3.11."""


def _record_line(name: str, data: bytes) -> list[str]:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [name, f"sha256={digest}", str(len(data))]


def _write(path: Path, files: dict[str, bytes], dist_info: str) -> Path:
    rows = [_record_line(name, data) for name, data in files.items()]
    rows.append([f"{dist_info}/RECORD", "", ""])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr(f"{dist_info}/RECORD", out.getvalue())
    return path


def make_wheel(
    folder: Path, name: str, version: str, modules: dict[str, str], requires: tuple[str, ...] = ()
) -> Path:
    """A pure-Python wheel of ``name`` holding ``modules`` (path -> source)."""
    folder.mkdir(parents=True, exist_ok=True)
    norm = name.replace("-", "_")
    dist_info = f"{norm}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    wheel = "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files = {path: text.encode() for path, text in modules.items()}
    files[f"{dist_info}/METADATA"] = meta.encode()
    files[f"{dist_info}/WHEEL"] = wheel.encode()
    return _write(folder / f"{norm}-{version}-py3-none-any.whl", files, dist_info)


def repack(folder: Path, name: str) -> Path:
    """The installed distribution ``name`` as a wheel in ``folder`` (scripts left out)."""
    folder.mkdir(parents=True, exist_ok=True)
    dist = md.distribution(name)
    base = Path(str(dist.locate_file("")))
    files: dict[str, bytes] = {}
    dist_info = ""
    for item in dist.files or []:
        rel = str(item)
        if rel.startswith("..") or "__pycache__" in rel or rel.endswith((".pyc", "RECORD")):
            continue
        if rel.endswith(".dist-info/METADATA"):
            dist_info = rel.rsplit("/", 1)[0]
        if rel.endswith(("INSTALLER", "REQUESTED", "direct_url.json")):
            continue
        files[rel] = (base / rel).read_bytes()
    norm = dist.metadata["Name"].replace("-", "_")
    return _write(folder / f"{norm}-{dist.version}-py3-none-any.whl", files, dist_info)


def wheelhouse(folder: Path) -> Path:
    """``folder`` with wheels of pytest and its dependencies."""
    for name in PYTEST_WHEELS:
        repack(folder, name)
    return folder
