"""Path confinement, bind refusal, token comparison and redaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from ai_conductor.errors import ConfigError, UsageError
from ai_conductor.server.security import (
    check_bind,
    check_codebase_path,
    redact,
    require_token,
    token_ok,
)
from ai_conductor.settings import Settings


@pytest.fixture
def root(tmp_path: Path) -> Path:
    base = tmp_path / "allowed"
    (base / "repo").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    return base


def test_paths_inside_the_roots_resolve(root: Path) -> None:
    settings = Settings(allowed_roots=[root])
    assert check_codebase_path("repo", settings) == (root / "repo").resolve()
    assert check_codebase_path(str(root / "repo"), settings) == (root / "repo").resolve()
    assert check_codebase_path(str(root), settings) == root.resolve()


@pytest.mark.parametrize("path", ["../outside", "repo/../../outside", "/etc", "~"])
def test_traversal_and_outside_paths_are_refused(root: Path, path: str) -> None:
    with pytest.raises(UsageError, match="outside the allowed roots") as info:
        check_codebase_path(path, Settings(allowed_roots=[root]))
    assert str(root.resolve()) in str(info.value)


def test_symlink_escape_is_refused(root: Path, tmp_path: Path) -> None:
    (root / "link").symlink_to(tmp_path / "outside", target_is_directory=True)
    with pytest.raises(UsageError, match="outside the allowed roots"):
        check_codebase_path("link", Settings(allowed_roots=[root]))


def test_missing_and_malformed_paths(root: Path) -> None:
    settings = Settings(allowed_roots=[root])
    with pytest.raises(UsageError, match="does not exist"):
        check_codebase_path("nope", settings)
    for bad in ("", "repo\x00x"):
        with pytest.raises(UsageError, match="NUL"):
            check_codebase_path(bad, settings)


def test_allowed_roots_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv("CONDUCTOR_ALLOWED_ROOTS", f"{a},{b}")
    assert Settings().allowed_roots == [a, b]
    monkeypatch.setenv("CONDUCTOR_ALLOWED_ROOTS", f"{a}:{b}")
    assert Settings().allowed_roots == [a, b]


def test_default_root_is_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x").mkdir()
    assert check_codebase_path("x", Settings(allowed_roots=[])) == (tmp_path / "x").resolve()
    with pytest.raises(UsageError):
        check_codebase_path("..", Settings(allowed_roots=[]))


def test_bind_needs_a_token_beyond_loopback() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"):
        check_bind(host, None)
    for host in ("0.0.0.0", "::", "192.168.1.5", "example.com"):
        with pytest.raises(ConfigError, match="CONDUCTOR_API_TOKEN"):
            check_bind(host, None)
        check_bind(host, "a-token")


def test_token_compare_and_lookup() -> None:
    assert token_ok("s3cret-token", "s3cret-token")
    assert not token_ok("s3cret-tokem", "s3cret-token")
    assert not token_ok(None, "s3cret-token")
    assert not token_ok("", "")
    assert require_token(Settings(api_token=SecretStr("tok"))) == "tok"
    assert require_token(Settings(api_token=None)) is None


def test_redact_removes_secrets_and_url_credentials() -> None:
    settings = Settings(
        api_token=SecretStr("hunter22-token"), openai_api_key=SecretStr("sk-abc123")
    )
    text = (
        "failed with hunter22-token at postgresql://user:pw@db:5432/x and key sk-abc123; "
        "password=letmein"
    )
    shown = redact(text, settings)
    for secret in ("hunter22-token", "sk-abc123", "user:pw", "letmein"):
        assert secret not in shown
    assert "postgresql://***@db:5432/x" in shown
