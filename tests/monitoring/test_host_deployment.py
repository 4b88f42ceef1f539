"""deployments/: systemd units, the environment file template and install.sh, checked for real
(systemd-analyze, the venv's CLIs, systemd-sysusers and systemctl --root on a tmp root)."""

from __future__ import annotations

import itertools
import os
import re
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO, _missing

DEPLOY = REPO / "deployments"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
VENV_BIN = "/opt/ai-conductor/venv/bin/"
ENV_FILE = "/etc/ai-conductor/conductor.env"
STATE = "/var/lib/ai-conductor"
UNIT_ONLY = {"CONDUCTOR_HTTP_HOST", "CONDUCTOR_HTTP_PORT", "CONDUCTOR_METRICS_HOST",
             "CONDUCTOR_METRICS_PORT"}  # fmt: skip
"""Variables of the environment file that only the units' command lines read."""
NOT_FOR_HOSTS = {"github_step_summary"}


def unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file as section -> key -> values (systemd allows repeated keys)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not key=value: {line!r}"
        current.setdefault(key, []).append(value)
    return sections


def env_lines(commented: bool) -> dict[str, str]:
    """KEY=VALUE lines of the template (commented-out ones too, when asked)."""
    pattern = r"#?([A-Z][A-Z0-9_]*)=(.*)" if commented else r"([A-Z][A-Z0-9_]*)=(.*)"
    out: dict[str, str] = {}
    for line in (DEPLOY / "conductor.env.example").read_text().splitlines():
        found = re.fullmatch(pattern, line.strip())
        if found:
            out[found.group(1)] = found.group(2)
    return out


def unit_env(sections: dict[str, dict[str, list[str]]]) -> dict[str, str]:
    pairs = [p for v in sections["Service"].get("Environment", []) for p in shlex.split(v)]
    return dict(p.split("=", 1) for p in pairs)


def exec_argv(path: Path) -> list[str]:
    """The unit's ExecStart with ${VAR} expanded as systemd would (the file over Environment=)."""
    sections = unit(path)
    values = {**unit_env(sections), **env_lines(commented=False)}
    (line,) = sections["Service"]["ExecStart"]
    missing = set(re.findall(r"\$\{(\w+)\}", line)) - set(values)
    assert not missing, f"{path.name}: {missing} set nowhere"
    return shlex.split(re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], line))


def test_there_are_the_four_services() -> None:
    names = [u.name for u in UNITS]
    assert names == ["ai-conductor.service", "conductor-mcp.service",
                     "conductor-metrics.service", "prefect-server.service"]  # fmt: skip


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_each_unit_runs_sandboxed_as_the_conductor_user(path: Path) -> None:
    service = unit(path)["Service"]
    expected = {
        "User": ["conductor"], "Group": ["conductor"], "EnvironmentFile": [ENV_FILE],
        "Restart": ["on-failure"], "NoNewPrivileges": ["yes"], "ProtectSystem": ["strict"],
        "ReadWritePaths": [STATE], "PrivateTmp": ["yes"], "ProtectHome": ["yes"],
        "StateDirectory": ["ai-conductor"], "CapabilityBoundingSet": [""],
    }  # fmt: skip
    assert {k: service.get(k) for k in expected} == expected
    assert unit_env(unit(path))["CONDUCTOR_HOME"] == STATE == env_lines(False)["CONDUCTOR_HOME"]
    assert service["ExecStart"][0].startswith(VENV_BIN)
    assert unit(path)["Install"]["WantedBy"] == ["multi-user.target"]


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        _missing("systemd-analyze is not installed (Debian package systemd)")
    assert analyze is not None
    copies = []
    for path in UNITS:  # ExecStart must exist: point it at this venv's binaries
        copy = tmp_path / path.name
        copy.write_text(path.read_text().replace(VENV_BIN, f"{BIN}/"))
        copies.append(str(copy))
    done = subprocess.run([analyze, "verify", *copies], capture_output=True, text=True, timeout=120)
    ours = [line for line in done.stderr.splitlines() if "service" in line or str(tmp_path) in line]
    assert done.returncode == 0, done.stderr
    assert not ours, done.stderr
    for copy in copies:  # exposure 0 (locked down) .. 10 (unsafe); 3.5 or lower is "OK"
        check = [analyze, "security", "--offline=true", "--threshold=35", copy]
        scored = subprocess.run(check, capture_output=True, text=True, timeout=120)
        assert scored.returncode == 0, scored.stdout[-1500:] + scored.stderr


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_each_exec_start_is_a_real_command_of_the_venv(path: Path) -> None:
    argv = exec_argv(path)
    program = BIN / argv[0].removeprefix(VENV_BIN)
    assert program.is_file(), program
    shown = subprocess.run([str(program), *argv[1:], "--help"], capture_output=True, text=True,
                           timeout=120, env={**os.environ, "COLUMNS": "200"})  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "Usage:" in shown.stdout
    words = list(itertools.takewhile(lambda a: not a.startswith("-"), argv[1:]))
    assert " ".join(words) in shown.stdout, shown.stdout[:300]
    for option in (a for a in argv[1:] if a.startswith("--")):
        assert option in shown.stdout, f"{path.name}: {option} is not an option of {words}"


def test_the_env_template_names_every_setting_and_leaves_secrets_out() -> None:
    from pydantic import SecretStr

    from ai_conductor.settings import Settings

    every = set(env_lines(commented=True))
    named = {k for k in every if k.startswith("CONDUCTOR_")}
    fields = {  # a setting read from one other variable (PREFECT_HOME) is named by it
        info.validation_alias if isinstance(info.validation_alias, str)
        else f"CONDUCTOR_{name.upper()}": info
        for name, info in Settings.model_fields.items()
    }  # fmt: skip
    for name in NOT_FOR_HOSTS:
        fields.pop(f"CONDUCTOR_{name.upper()}")
    assert set(fields) - every == set(), "settings missing from conductor.env.example"
    fields = {k: v for k, v in fields.items() if k.startswith("CONDUCTOR_")}
    assert named - set(fields) == UNIT_ONLY, "unknown CONDUCTOR_ variables"
    used = {v for u in UNITS for v in re.findall(r"\$\{(\w+)\}", u.read_text())}
    assert used == UNIT_ONLY
    active = env_lines(commented=False)
    secrets = {
        k
        for k, info in fields.items()
        if SecretStr in getattr(info.annotation, "__args__", (info.annotation,))
    }
    assert len(secrets) >= 6
    assert not secrets & set(active), "a secret is set in the template"
    assert not {"PREFECT_API_KEY", "PREFECT_API_AUTH_STRING"} & set(active)
    assert all(value for value in active.values()), "an empty KEY= line sets an empty value"


def test_the_env_template_is_valid_for_the_conductor_and_prefect(tmp_path: Path) -> None:
    active = env_lines(commented=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDUCTOR_", "PREFECT_"))}
    env.update(active)
    code = (
        "from ai_conductor.settings import get_settings as c\n"
        "from prefect.settings import get_current_settings as p\n"
        "s, q = c(), p()\n"
        "print(s.home, s.allowed_roots, s.context_store, s.metrics_pushgateway)\n"
        "print(q.api.url, q.server.api.host, q.server.api.port, q.home)\n"
    )
    done = subprocess.run([str(BIN / "python"), "-c", code], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    conductor, prefect = done.stdout.splitlines()
    assert conductor == (f"{STATE} [PosixPath('{STATE}/repos')] embedded None")
    assert prefect == f"http://127.0.0.1:4200/api 127.0.0.1 4200 {STATE}/prefect"


def install(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["bash", str(DEPLOY / "install.sh"), *args], capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_install_sh_parses_and_refuses_unknown_options() -> None:
    subprocess.run(["bash", "-n", str(DEPLOY / "install.sh")], check=True)
    assert "--dry-run" in install("--help").stdout
    refused = install("--bogus", check=False)
    assert refused.returncode == 2
    assert "unknown option --bogus" in refused.stderr


def test_install_sh_lays_a_host_into_a_root(tmp_path: Path) -> None:
    for tool in ("systemctl", "systemd-sysusers"):
        if shutil.which(tool) is None:
            _missing(f"{tool} is not installed (Debian package systemd)")
    root = tmp_path / "root"
    out = install("--root", str(root)).stdout
    units = root / "etc/systemd/system"
    for path in UNITS:
        assert (units / path.name).read_text() == path.read_text()
        wanted = units / "multi-user.target.wants" / path.name
        assert os.readlink(wanted) == f"/etc/systemd/system/{path.name}"
    env = root / "etc/ai-conductor/conductor.env"
    assert env.read_text() == (DEPLOY / "conductor.env.example").read_text()
    assert stat.S_IMODE(env.stat().st_mode) == 0o600  # secrets: root only (systemd reads it)
    users = [line for line in (root / "etc/passwd").read_text().splitlines()
             if line.startswith("conductor:")]  # fmt: skip
    assert len(users) == 1
    assert users[0].split(":")[5:] == [STATE, "/usr/sbin/nologin"]
    assert "a venv cannot be moved" in out  # under --root the venv is the host's job

    env.write_text(env.read_text() + "CONDUCTOR_METRICS_PUSHGATEWAY=http://gw:9091\n")
    again = install("--root", str(root)).stdout  # idempotent, keeps the edited settings
    assert "kept the existing conductor.env" in again
    assert env.read_text().endswith("http://gw:9091\n")
    assert sum(line.startswith("conductor:") for line in
               (root / "etc/passwd").read_text().splitlines()) == 1  # fmt: skip


def test_install_sh_prefix_and_without_a_prefect_server(tmp_path: Path) -> None:
    if shutil.which("systemctl") is None:
        _missing("systemctl is not installed (Debian package systemd)")
    root = tmp_path / "root"
    install("--root", str(root), "--prefix", "/srv/conductor", "--no-prefect-server")
    units = root / "etc/systemd/system"
    assert not (units / "prefect-server.service").exists()
    worker = unit(units / "ai-conductor.service")["Service"]["ExecStart"][0]
    assert worker.startswith("/srv/conductor/venv/bin/prefect worker start")
    assert VENV_BIN not in "".join(p.read_text() for p in units.glob("*.service"))


def test_install_sh_dry_run_prints_the_host_steps_and_changes_nothing(tmp_path: Path) -> None:
    image = tmp_path / "image"
    out = install("--root", str(image), "--dry-run").stdout
    assert not image.exists()
    assert f"+ systemctl --root={image} enable prefect-server.service ai-conductor.service" in out
    host = install("--dry-run", "--source", "ai-conductor==0.1.0", "--extras", "server,llm").stdout
    steps = [line[2:] for line in host.splitlines() if line.startswith("+ ")]
    assert "systemd-sysusers /etc/sysusers.d/ai-conductor.conf" in steps
    assert "python3 -m venv /opt/ai-conductor/venv" in steps
    assert (
        "/opt/ai-conductor/venv/bin/python -m pip install ai-conductor==0.1.0[server,llm]" in steps
    )
    assert "/opt/ai-conductor/venv/bin/python -m ai_conductor.analysis.taint.install" in steps
    assert "systemctl daemon-reload" in steps
    assert steps[-1] == ("systemctl enable prefect-server.service ai-conductor.service "
                         "conductor-mcp.service conductor-metrics.service")  # fmt: skip
    assert any(s.endswith(f"{DEPLOY}/conductor.env.example /etc/ai-conductor/conductor.env")
               for s in steps) or "kept the existing conductor.env" in host  # fmt: skip
