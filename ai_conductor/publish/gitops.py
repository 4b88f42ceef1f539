"""git for publishing: the remote's address, credentials per command, ls-remote, fetch, push.

Credentials never reach a file or an argument list: the token goes into one git process'
environment as ``http.<scheme://host/>.extraHeader`` (scoped to the remote's host, so a
redirect or a submodule elsewhere never sees it), next to an empty ``credential.helper`` (no
helper runs, none stores it). An SSH remote is pushed through its HTTPS address with the token
(SSH is switched off for every git the conductor runs: see :mod:`ai_conductor._git`).
Messages are scrubbed of the token and its encoded form before they are raised.
"""

from __future__ import annotations

import base64
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from ai_conductor._git import git_env
from ai_conductor._urls import without_credentials
from ai_conductor.errors import ForgeError, UsageError

TIMEOUT = 600.0
_SCP = re.compile(r"^(?:(?P<user>[^@/]+)@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")


@dataclass(frozen=True)
class Remote:
    """Where a run's changes are pushed."""

    name: str
    url: str
    """The address git pushes to: HTTPS for an SSH remote, userinfo removed."""
    host: str
    """Host (and port) of the remote; empty for ``file://`` and local paths."""
    path: str
    """Repository path on the host, e.g. ``owner/name`` (no ``.git``)."""


@dataclass(frozen=True)
class Credentials:
    username: str
    token: SecretStr

    def secrets(self) -> list[str]:
        """Every form of the token that could appear in a message."""
        raw = self.token.get_secret_value()
        return [raw, _basic(self.username, raw)] if raw else []


def _basic(username: str, token: str) -> str:
    return base64.b64encode(f"{username}:{token}".encode()).decode()


def parse_remote(name: str, url: str) -> Remote:
    """A remote's address as the conductor pushes to it (see the module docstring)."""
    scp = _SCP.match(url) if "://" not in url else None
    if scp:
        host, path = scp.group("host"), scp.group("path")
        return Remote(name, f"https://{host}/{path}", host, _repo_path(path))
    parts = urlsplit(url)
    if parts.scheme in ("", "file"):
        return Remote(name, url, "", _repo_path(parts.path))
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    scheme = "https" if parts.scheme in ("ssh", "git+ssh", "git") else parts.scheme
    if scheme == "https" and parts.scheme != "https":
        host = parts.hostname or ""  # the SSH port is not the HTTPS port
    clean = urlunsplit((scheme, host, parts.path, "", ""))
    return Remote(name, clean, host, _repo_path(parts.path))


def _repo_path(path: str) -> str:
    path = path.strip("/")
    return path[:-4] if path.endswith(".git") else path


def auth_config(remote: Remote, creds: Credentials | None) -> list[tuple[str, str]]:
    """Per-command git settings that authenticate to ``remote`` (nothing for local remotes)."""
    parts = urlsplit(remote.url)
    if creds is None or parts.scheme not in ("http", "https"):
        return []
    prefix = f"{parts.scheme}://{parts.netloc}/"
    header = f"Authorization: Basic {_basic(creds.username, creds.token.get_secret_value())}"
    key = f"http.{prefix}.extraHeader"
    # an empty value first resets the header list: a header some other tool left in the
    # repository's config (actions/checkout persists one) is not sent beside ours
    return [("credential.helper", ""), (key, ""), (key, header)]


class Git:
    """git in one repository, with the publish's credentials for one remote."""

    def __init__(self, repo: Path, remote: Remote, creds: Credentials | None) -> None:
        self.repo, self.remote, self.creds = repo, remote, creds
        self._auth = auth_config(remote, creds)

    def scrub(self, text: str) -> str:
        for secret in self.creds.secrets() if self.creds else []:
            text = text.replace(secret, "***")
        return text

    def run(self, *args: str, stdin: str | None = None, network: bool = False,
            env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:  # fmt: skip
        full = git_env(self.repo, extra=self._auth if network else ())
        full.update(env or {})
        try:
            proc = subprocess.run(
                ["git", *args], cwd=self.repo, env=full, input=stdin, capture_output=True,
                text=True, encoding="utf-8", errors="surrogateescape", timeout=TIMEOUT,
                check=False, stdin=None if stdin is not None else subprocess.DEVNULL,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise ForgeError(
                f"git {args[0]} timed out after {TIMEOUT:.0f}s in {self.repo}"
            ) from None
        if check and proc.returncode:
            tail = self.scrub((proc.stderr or proc.stdout).strip())[-1500:]
            raise ForgeError(f"git {' '.join(args[:2])} failed for {self.remote.url}: {tail}")
        return proc

    def out(self, *args: str, **kw: object) -> str:
        return self.run(*args, **kw).stdout.strip()  # type: ignore[arg-type]

    def remote_heads(self, *branches: str) -> dict[str, str]:
        """``{branch: sha}`` for those of ``branches`` the remote has, plus ``HEAD`` (the
        remote's default branch name, when it says)."""
        refs = [f"refs/heads/{b}" for b in branches]
        text = self.out("ls-remote", "--symref", self.remote.url, "HEAD", *refs, network=True)
        found: dict[str, str] = {}
        for line in text.splitlines():
            if line.startswith("ref: ") and line.endswith("\tHEAD"):
                found["HEAD"] = line[5:].split("\t")[0].removeprefix("refs/heads/")
            elif "\t" in line:
                sha, ref = line.split("\t", 1)
                if ref.startswith("refs/heads/"):
                    found[ref.removeprefix("refs/heads/")] = sha
        return found

    def fetch(self, branch: str, into: str) -> str:
        """Fetch the remote's ``branch`` into the private ref ``into``; its sha."""
        spec = f"+refs/heads/{branch}:{into}"
        self.run("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", self.remote.url, spec,
                 network=True)  # fmt: skip
        return self.out("rev-parse", into)

    def push(self, sha: str, branch: str, expected: str | None) -> None:
        """Point the remote's ``branch`` at ``sha``, only if it still is ``expected`` (None:
        only if it does not exist): a concurrent push is never overwritten."""
        lease = f"--force-with-lease=refs/heads/{branch}:{expected or ''}"
        self.run("push", "--quiet", "--no-verify", lease, self.remote.url,
                 f"{sha}:refs/heads/{branch}", network=True)  # fmt: skip


def read_remote(repo: Path, name: str) -> Remote:
    """The remote ``name`` of ``repo`` (UsageError when there is none)."""
    proc = subprocess.run(
        ["git", "remote", "get-url", "--push", name], cwd=repo, env=git_env(repo),
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False,
    )  # fmt: skip
    if proc.returncode or not proc.stdout.strip():
        raise UsageError(
            f"{repo} has no git remote {name!r}: add it (git remote add {name} URL) or name "
            "another with --remote"
        )
    return parse_remote(name, proc.stdout.strip())


def changed_files(names: Sequence[str]) -> str:
    """``a.py, b.py`` (at most five, then ``and N more``)."""
    shown = ", ".join(names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def split_credentials(url: str) -> tuple[str, Credentials | None]:
    """``https://user:token@host/x`` -> (``https://host/x``, their credentials)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    from urllib.parse import unquote

    clean = urlunsplit(parts._replace(netloc=hostport))
    return clean, Credentials(unquote(user) or "oauth2", SecretStr(unquote(password)))


def clone(
    url: str, dest: Path, branch: str | None, creds: Credentials | None, *, depth: int | None = None
) -> Remote:
    """Clone ``url`` (credential-free) into ``dest`` with hooks off (``depth``: the newest
    commits only); credentials, when given, only in git's environment. The clone's ``origin``
    is the credential-free URL."""
    remote = parse_remote("origin", url)
    dest.parent.mkdir(parents=True, exist_ok=True)
    git = Git(dest.parent, remote, creds)
    picked = ["--branch", branch] if branch else []
    shallow = ["--depth", str(depth)] if depth else []
    try:
        git.run("clone", "--quiet", "--no-tags", *shallow, *picked, "--", url, str(dest),
                network=True)  # fmt: skip
    except ForgeError as exc:
        shown = without_credentials(url)
        detail = str(exc).split(f"failed for {remote.url}: ", 1)[-1].replace(url, shown)
        raise UsageError(f"cannot clone {shown!r}: {detail}") from None
    return remote
