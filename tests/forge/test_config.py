"""Forge selection and configuration as CI platforms provide it; remotes and credentials."""

from __future__ import annotations

import sys

import pytest
from pydantic import SecretStr

from ai_conductor.errors import ConfigError
from ai_conductor.forge.config import ForgeConfig, detect, forge_config
from ai_conductor.forge.registry import open_forge
from ai_conductor.publish.gitops import Credentials, auth_config, parse_remote, split_credentials
from ai_conductor.settings import Settings


def settings(**env: str) -> Settings:
    return Settings(_env_file=None, **env)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("url", "host", "path", "push"),
    [
        ("https://github.com/acme/shop.git", "github.com", "acme/shop",
         "https://github.com/acme/shop.git"),
        ("git@gitlab.com:group/sub/proj.git", "gitlab.com", "group/sub/proj",
         "https://gitlab.com/group/sub/proj.git"),
        ("ssh://git@codeberg.org:22/o/r.git", "codeberg.org", "o/r", "https://codeberg.org/o/r.git"),
        ("https://user:secret@git.example:8443/o/r", "git.example:8443", "o/r",
         "https://git.example:8443/o/r"),
        ("file:///srv/git/r.git", "", "srv/git/r", "file:///srv/git/r.git"),
    ],
)  # fmt: skip
def test_remotes_are_pushed_over_https_without_userinfo(
    url: str, host: str, path: str, push: str
) -> None:
    remote = parse_remote("origin", url)
    assert (remote.host, remote.path, remote.url) == (host, path, push)


def test_the_forge_comes_from_the_host_the_setting_or_the_flag() -> None:
    gh, gl = parse_remote("o", "https://github.com/a/b"), parse_remote("o", "git@gitlab.com:a/b")
    assert detect(gh, None, settings()) == "github"
    assert detect(gl, None, settings()) == "gitlab"
    ghe = parse_remote("o", "https://code.corp.example/a/b.git")
    api = settings(GITHUB_API_URL="https://code.corp.example/api/v3")
    assert detect(ghe, None, api) == "github"  # GitHub Enterprise: the API's host
    assert detect(ghe, "gitea", api) == "gitea"
    assert detect(ghe, None, settings(forge="gitlab")) == "gitlab"
    with pytest.raises(ConfigError, match="--forge github\\|gitlab\\|gitea"):
        detect(ghe, None, settings())


def test_ci_variables_configure_each_forge() -> None:
    gh = forge_config("github", parse_remote("o", "https://github.com/a/b.git"),
                      settings(GITHUB_TOKEN="t1"))  # fmt: skip
    assert (gh.api_url, gh.repository, gh.token.get_secret_value()) == (
        "https://api.github.com", "a/b", "t1")  # fmt: skip
    env = settings(CI_API_V4_URL="https://gl.example/api/v4", CI_PROJECT_ID="42",
                   GITLAB_TOKEN="t2")  # fmt: skip
    gl = forge_config("gitlab", parse_remote("o", "https://gl.example/g/p.git"), env)
    assert (gl.api_url, gl.repository) == ("https://gl.example/api/v4", "42")
    gt = forge_config("gitea", parse_remote("o", "https://codeberg.org/o/r"),
                      settings(GITEA_TOKEN="t3"))  # fmt: skip
    assert gt.api_url == "https://codeberg.org/api/v1"
    assert gh.git_credentials(settings()).username == "x-access-token"
    assert gl.git_credentials(settings(git_username="bot")).username == "bot"
    with pytest.raises(ConfigError, match="GITLAB_TOKEN"):
        forge_config("gitlab", parse_remote("o", "https://gl.example/g/p.git"), settings())
    token = settings(CONDUCTOR_GITHUB_TOKEN="mine", GITHUB_TOKEN="ci")
    assert token.github_token is not None
    assert token.github_token.get_secret_value() == "mine"


def test_a_missing_client_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "githubkit", None)
    monkeypatch.delitem(sys.modules, "ai_conductor.forge.github", raising=False)
    config = ForgeConfig("github", "https://api.github.com", "a/b", SecretStr("t"))
    with pytest.raises(ConfigError, match=r"pip install 'ai-conductor\[github\]'"):
        open_forge(config)


def test_credentials_come_from_the_url_and_go_to_one_host_only() -> None:
    clean, creds = split_credentials("https://bot:s%40cret@git.example/o/r.git")
    assert clean == "https://git.example/o/r.git"
    assert creds is not None
    assert (creds.username, creds.token.get_secret_value()) == ("bot", "s@cret")
    pairs = auth_config(parse_remote("o", clean), creds)
    assert pairs[0] == ("credential.helper", "")
    assert [k for k, _ in pairs[1:]] == ["http.https://git.example/.extraHeader"] * 2
    assert pairs[1][1] == ""  # resets any header a config file set for that host
    assert auth_config(parse_remote("o", "file:///x"), Credentials("u", SecretStr("t"))) == []
