"""One URL-credential redactor: every place that shows a URL or a text holding URLs agrees."""

from __future__ import annotations

import pytest

from ai_conductor._urls import redact_userinfo, without_credentials, without_userinfo

SECRET_URLS = [
    "https://user:s3cret@example.com/org/repo.git",
    "https://tok'en@example.com/x",  # a quote in the password
    'https://u:p"w@example.com/x',
    "postgresql+psycopg://app:pw@db:5432/audit",
    "https:/user:pw@example.com/x",  # a URL a Path was made of
]


@pytest.mark.parametrize("url", SECRET_URLS)
def test_every_redactor_hides_the_credentials(url: str) -> None:
    from ai_conductor.environment._proc import redact as command_output
    from ai_conductor.server.security import redact as server_message

    secret = url.split(":/", 1)[1].lstrip("/").rsplit("@", 1)[0]
    text = f"cannot reach {url} (timed out)"
    for shown in (redact_userinfo(text), command_output(text), server_message(text)):
        assert secret not in shown, shown
        assert "***@" in shown, shown


def test_a_url_keeps_a_marker_or_drops_its_credentials() -> None:
    url = "https://user:s3cret@example.com/org/repo.git"
    assert without_userinfo(url) == "https://***@example.com/org/repo.git"
    assert without_credentials(url) == "https://example.com/org/repo.git"
    assert without_credentials("/srv/repo") == "/srv/repo"
