"""One Settings object for the whole process, read from the environment.

Built once in the entry point and passed down. A wrong value stops start-up with
one sentence naming the variable (see :func:`load_settings`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.time.policy import parse_digest_at

DEFAULT_DB_FILE = "csp-bot.sqlite3"
_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]+$")


def _truthy(value: object) -> bool:
    return value is True or str(value).strip().lower() in {"1", "true", "yes", "on"}


def _utc_all_year(zone: ZoneInfo) -> bool:
    """Whether ``zone`` is UTC+0 in both winter and summer (GMT, UTC, Etc/GMT...)."""
    return all(
        dt.datetime(2026, month, 15, 12, tzinfo=zone).utcoffset() == dt.timedelta(0)
        for month in (1, 7)
    )


class ConfigError(Exception):
    """A configuration value is wrong; the message is one sentence for the operator."""


def _split_ids(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    raise ValueError("expected a comma-separated list of Slack user IDs")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=None,
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_DB_FILE}", validation_alias="DATABASE_URL"
    )
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_SIGNING_SECRET"
    )
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    partnership_name: str = Field(
        default="Maldon Community Safety Partnership", validation_alias="CSP_PARTNERSHIP_NAME"
    )
    partnership_channel: str | None = Field(
        default=None, validation_alias="CSP_PARTNERSHIP_CHANNEL"
    )
    safeguarding_channel: str | None = Field(
        default=None, validation_alias="CSP_SAFEGUARDING_CHANNEL"
    )
    # NoDecode: comma-separated IDs, not JSON (see _ids).
    admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="CSP_ADMINS"
    )
    safeguarding_leads: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="CSP_SAFEGUARDING_LEADS"
    )
    encryption_key: SecretStr | None = Field(default=None, validation_alias="CSP_ENCRYPTION_KEY")
    # The key of the audit chain's HMAC (comma-separated, newest first); unset, it is
    # derived from CSP_ENCRYPTION_KEY.
    audit_key: SecretStr | None = Field(default=None, validation_alias="CSP_AUDIT_KEY")
    # A zone with no summer time at UTC+0 (GMT, UTC, Etc/GMT) is refused unless this says
    # the partnership really keeps that time all year (see _zone). Declared before
    # `timezone` so its validator can read it.
    fixed_timezone: bool = Field(default=False, validation_alias="CSP_TIMEZONE_NO_SUMMER_TIME")
    timezone: str = Field(default="Europe/London", validation_alias="CSP_TIMEZONE")
    log_level: str = Field(default="INFO", validation_alias="CSP_LOG_LEVEL")
    post_progress_to_channel: bool = Field(
        default=True, validation_alias="CSP_POST_PROGRESS_TO_CHANNEL"
    )
    digest_cron: str = Field(default="mon 09:00", validation_alias="CSP_DIGEST_AT")
    # Where `csp-bot serve` is reached from outside (https://csp-bot.example.org): the
    # start of the calendar's subscribe link.
    public_url: str | None = Field(default=None, validation_alias="CSP_PUBLIC_URL")

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", value):
            raise ValueError(
                f"{value!r} is not a web address: give where csp-bot serve is reached, "
                "like https://csp-bot.example.org"
            )
        return value

    @field_validator("admins", "safeguarding_leads", mode="before")
    @classmethod
    def _ids(cls, value: object) -> list[str]:
        ids = _split_ids(value)
        for user_id in ids:
            if not _USER_ID.match(user_id):
                raise ValueError(
                    f"has {user_id!r}, which is not a Slack user ID (like U0123ABCD: "
                    "in Slack, open the person's profile, More, Copy member ID)"
                )
        return ids

    @field_validator("digest_cron")
    @classmethod
    def _digest_at(cls, value: str) -> str:
        parse_digest_at(value)  # ValueError says how to write it
        return value.strip().lower()

    @field_validator("partnership_channel", "safeguarding_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not _CHANNEL_ID.match(value):
            raise ValueError(
                f"{value!r} is not a Slack channel ID: use the ID (like C0123ABCD) from the "
                "channel's details, not its #name"
            )
        return value

    @field_validator("slack_bot_token", "slack_app_token")
    @classmethod
    def _token(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        prefix = "xoxb-" if info.field_name == "slack_bot_token" else "xapp-"
        if not value.get_secret_value().strip().startswith(prefix):
            raise ValueError(
                f"should start with {prefix} (the bot token is xoxb-..., the app-level "
                "token for Socket Mode is xapp-...)"
            )
        return SecretStr(value.get_secret_value().strip())

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        try:
            zone = ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a known time zone (try Europe/London)") from exc
        if _utc_all_year(zone) and not _truthy(info.data.get("fixed_timezone")):
            raise ValueError(
                f"is {value!r}, which has no summer time: in the UK every reminder and "
                "digest from late March to late October would go out an hour late. Use "
                "Europe/London, or if the partnership really keeps UTC all year, also set "
                "CSP_TIMEZONE_NO_SUMMER_TIME=true"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(
                f"{value!r} is not a database URL "
                "(try sqlite:///csp-bot.sqlite3 or postgresql+psycopg://user:pass@host/db)"
            ) from exc
        backend, _, driver = url.drivername.partition("+")
        if backend == "postgres":
            # Heroku-style postgres://... is what many hosts hand out: it means PostgreSQL.
            backend = "postgresql"
        if backend not in {"sqlite", "postgresql"}:
            raise ValueError(
                f"database {url.drivername!r} is not supported (use sqlite:///FILE or "
                "postgresql+psycopg://user:pass@host/db)"
            )
        if backend == "postgresql":
            if driver not in {"", "psycopg"}:
                raise ValueError(
                    f"asks for the {driver!r} driver, which is not installed: write "
                    "postgresql+psycopg://user:pass@host/db (psycopg 3 is the driver we ship)"
                )
            # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
            value = url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        return value

    @field_validator("encryption_key")
    @classmethod
    def _keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        for part in value.get_secret_value().split(","):
            key = part.strip()
            try:
                raw = base64.urlsafe_b64decode(key.encode("ascii"))
            except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
                raise ValueError(
                    "is not a Fernet key (make one with `csp-bot keys generate`)"
                ) from exc
            if len(raw) != 32:
                raise ValueError("is not a Fernet key (make one with `csp-bot keys generate`)")
        return value

    @field_validator("audit_key")
    @classmethod
    def _audit_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        parts = [p.strip() for p in value.get_secret_value().split(",") if p.strip()]
        if any(len(p) < 32 for p in parts):
            raise ValueError(
                "should be at least 32 characters per key (make one with `csp-bot keys generate`)"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"{value!r} is not a log level (DEBUG, INFO, WARNING or ERROR)")
        return upper

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def has_slack_tokens(self) -> bool:
        return self.slack_bot_token is not None and self.slack_app_token is not None

    @property
    def encryption_keys(self) -> list[str]:
        if self.encryption_key is None:
            return []
        return [k.strip() for k in self.encryption_key.get_secret_value().split(",") if k.strip()]

    @property
    def sqlite_path(self) -> Path | None:
        url = make_url(self.database_url)
        if url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:"):
            return Path(str(url.database))
        return None


_ALIASES = {
    "database_url": "DATABASE_URL",
    "timezone": "CSP_TIMEZONE",
    "fixed_timezone": "CSP_TIMEZONE_NO_SUMMER_TIME",
    "encryption_key": "CSP_ENCRYPTION_KEY",
    "audit_key": "CSP_AUDIT_KEY",
    "log_level": "CSP_LOG_LEVEL",
    "admins": "CSP_ADMINS",
    "safeguarding_leads": "CSP_SAFEGUARDING_LEADS",
    "digest_cron": "CSP_DIGEST_AT",
    "partnership_channel": "CSP_PARTNERSHIP_CHANNEL",
    "safeguarding_channel": "CSP_SAFEGUARDING_CHANNEL",
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_app_token": "SLACK_APP_TOKEN",
    "post_progress_to_channel": "CSP_POST_PROGRESS_TO_CHANNEL",
    "partnership_name": "CSP_PARTNERSHIP_NAME",
    "slack_api_url": "SLACK_API_URL",
    "public_url": "CSP_PUBLIC_URL",
}


_KIND_MESSAGES = {
    "bool_parsing": "should be true or false",
    "bool_type": "should be true or false",
    "string_type": "should be text",
}


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, or raise ConfigError with one clear sentence."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = str(first["loc"][0]) if first["loc"] else "configuration"
        name = _ALIASES.get(loc, loc.upper())
        message = _KIND_MESSAGES.get(str(first["type"])) or str(first["msg"]).removeprefix(
            "Value error, "
        )
        raise ConfigError(f"{name} {message}.") from None
