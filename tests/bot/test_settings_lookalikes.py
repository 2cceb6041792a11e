"""Settings that look right but are wrong: a zone without summer time, postgres:// URLs."""

from __future__ import annotations

import os

import pytest

from bot.settings import ConfigError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("CSP_", "SLACK_")) or key == "DATABASE_URL":
            monkeypatch.delenv(key)


@pytest.mark.parametrize("zone", ["GMT", "UTC", "Etc/GMT", "Etc/UTC", " Zulu"])
def test_a_zone_without_summer_time_is_refused_and_explained(zone: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(CSP_TIMEZONE=zone)
    message = str(info.value)
    assert message.startswith("CSP_TIMEZONE is")
    assert "an hour late" in message and "Europe/London" in message
    assert "CSP_TIMEZONE_NO_SUMMER_TIME=true" in message


def test_utc_all_year_is_accepted_when_the_partnership_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CSP_TIMEZONE", "UTC")
    monkeypatch.setenv("CSP_TIMEZONE_NO_SUMMER_TIME", "true")
    assert load_settings().timezone == "UTC"


def test_london_and_other_zones_with_summer_time_need_no_confirmation() -> None:
    assert load_settings(CSP_TIMEZONE="Europe/London").timezone == "Europe/London"
    assert load_settings(CSP_TIMEZONE="Europe/Dublin").timezone == "Europe/Dublin"


@pytest.mark.parametrize(
    "url",
    [
        "postgres://u:p@db:5432/csp",
        "postgresql://u:p@db:5432/csp",
        "postgres+psycopg://u:p@db:5432/csp",
    ],
)
def test_postgres_urls_as_hosts_hand_them_out_are_read_as_psycopg(url: str) -> None:
    assert load_settings(DATABASE_URL=url).database_url == "postgresql+psycopg://u:p@db:5432/csp"


def test_a_driver_we_do_not_ship_is_refused_naming_the_one_we_do() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(DATABASE_URL="postgresql+psycopg2://u:p@db/csp")
    message = str(info.value)
    assert message.startswith("DATABASE_URL") and "postgresql+psycopg://" in message


def test_an_unsupported_database_names_both_forms() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(DATABASE_URL="mysql://u@h/db")
    assert "postgresql+psycopg://" in str(info.value) and "sqlite:///" in str(info.value)
