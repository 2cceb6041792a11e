from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.settings import ConfigError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith(("CSP_", "SLACK_")) or key == "DATABASE_URL":
            monkeypatch.delenv(key)


def test_defaults_are_the_embedded_sqlite_and_london() -> None:
    s = load_settings()
    assert s.database_url == "sqlite:///csp-bot.sqlite3"
    assert s.timezone == "Europe/London" and s.zone.key == "Europe/London"
    assert not s.has_slack_tokens and s.encryption_keys == []


def test_lists_and_keys_parse() -> None:
    k1, k2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    s = load_settings(
        CSP_ADMINS=" U1, U2 ,", CSP_SAFEGUARDING_LEADS="U3", CSP_ENCRYPTION_KEY=f"{k1},{k2}"
    )
    assert s.admins == ["U1", "U2"] and s.safeguarding_leads == ["U3"]
    assert s.encryption_keys == [k1, k2]


def test_plain_postgresql_url_uses_psycopg3() -> None:
    s = load_settings(DATABASE_URL="postgresql://u:p@db/csp")
    assert s.database_url == "postgresql+psycopg://u:p@db/csp"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CSP_TIMEZONE", "Europe/Londn"),
        ("DATABASE_URL", "::nonsense::"),
        ("DATABASE_URL", "mysql://u@h/db"),
        ("CSP_ENCRYPTION_KEY", "not-a-key"),
        ("CSP_LOG_LEVEL", "chatty"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(**{name: value})
    message = str(info.value)
    assert message.startswith(name) and message.endswith(".") and "\n" not in message


def test_secret_values_are_not_echoed() -> None:
    s = load_settings(SLACK_BOT_TOKEN="xoxb-test-secret")
    assert "xoxb-test-secret" not in repr(s)


def test_id_lists_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSP_ADMINS", "U1,U2")
    monkeypatch.setenv("CSP_SAFEGUARDING_LEADS", "U3")
    s = load_settings()
    assert s.admins == ["U1", "U2"] and s.safeguarding_leads == ["U3"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CSP_DIGEST_AT", "funday"),
        ("CSP_DIGEST_AT", "mon 25:00"),
        ("CSP_PARTNERSHIP_CHANNEL", "#general"),
        ("CSP_SAFEGUARDING_CHANNEL", "safeguarding"),
        ("CSP_ADMINS", "bob"),
        ("CSP_SAFEGUARDING_LEADS", "U1,@carol"),
        ("SLACK_BOT_TOKEN", "xapp-1-swapped"),
        ("SLACK_APP_TOKEN", "xoxb-swapped"),
    ],
)
def test_more_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(**{name: value})
    message = str(info.value)
    assert message.startswith(name) and "\n" not in message
    assert "swapped" not in message  # tokens are never echoed


def test_good_channel_and_digest_values() -> None:
    s = load_settings(
        CSP_PARTNERSHIP_CHANNEL="C0PARTNER",
        CSP_SAFEGUARDING_CHANNEL="G0SAFE",
        CSP_DIGEST_AT="Fri 16:30",
    )
    assert s.partnership_channel == "C0PARTNER" and s.digest_cron == "fri 16:30"
