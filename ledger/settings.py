"""Settings read from the environment (prefix ``MILEAGE_``)."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path("var") / "mileage.sqlite3"
DEFAULT_AUDIT_KEY_PATH = Path("var") / "audit.key"


class Settings(BaseSettings):
    """The service's settings; every field can be set as ``MILEAGE_<NAME>``."""

    # Secrets live here (the identity key, Twilio's token): a refused value is not quoted.
    model_config = SettingsConfigDict(
        env_prefix="MILEAGE_", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    late_entry_days: int | None = None
    rules_dir: str | None = None

    # Personal data
    # The key of the keyed hash (HMAC-SHA256) that recognises an erased patient registering
    # again. Unset, one is generated on the first erasure and kept in the database
    # (``service_secrets``); set it (and keep it) to hold the key outside the database.
    identity_key: SecretStr | None = Field(default=None, min_length=16)
    # Stored answers of idempotent requests keep names, phones and birth dates this long.
    idempotency_retention_days: int = Field(default=30, ge=1)

    # The HTTP edge
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="largest request body taken, in bytes"
    )
    # The proxies (addresses or CIDR blocks, comma-separated) whose X-Forwarded-For and
    # X-Request-Id are believed; from anyone else those headers are ignored.
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = []
    # Personal data and abuse
    lookups_per_minute: int = Field(
        default=30, ge=1, description="look-ups by name, birth date and phone, per caller"
    )
    # The key of the audit trail's keyed hashes (ledger.pseudonyms); unset, it is read from
    # `audit_key_file`, which is created on first use.
    audit_key: SecretStr | None = None
    audit_key_file: Path = DEFAULT_AUDIT_KEY_PATH

    # The console: staff passwords (argon2id; OWASP's parameters by default, cheap ones in
    # tests only), sessions and sign-in limits
    password_time_cost: int = Field(default=3, ge=1)
    password_memory_kib: int = Field(default=65536, ge=8)
    password_parallelism: int = Field(default=4, ge=1)
    web_idle_minutes: int = Field(default=30, ge=1, description="a session's idle timeout")
    sign_ins_per_account: int = Field(default=5, ge=1, description="per account, per window")
    sign_ins_per_address: int = Field(default=30, ge=1, description="per address, per window")
    sign_in_window_seconds: int = Field(default=900, ge=1)

    # Texts
    sms_transport: Literal["console", "twilio"] = "console"
    public_url: str | None = None
    send_window_start: int = Field(default=9, ge=0, le=23, description="hour, Asia/Seoul")
    send_window_end: int = Field(default=20, ge=1, le=24, description="hour, Asia/Seoul")
    send_rate_per_second: float = Field(default=2.0, gt=0, description="per sender number")
    twilio_account_sid: str | None = Field(
        default=None, validation_alias=AliasChoices("TWILIO_ACCOUNT_SID")
    )
    twilio_auth_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TWILIO_AUTH_TOKEN")
    )
    twilio_from_number: str | None = Field(
        default=None, validation_alias=AliasChoices("TWILIO_FROM_NUMBER")
    )
    twilio_messaging_service_sid: str | None = Field(
        default=None, validation_alias=AliasChoices("TWILIO_MESSAGING_SERVICE_SID")
    )
    # Where the Twilio SDK sends its requests; only tests point it elsewhere (a fake server).
    twilio_api_base: str = "https://api.twilio.com"
    # Twilio Messaging Service senders share the load: how many numbers send at once.
    sender_count: int = Field(default=1, ge=1)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        """``10.0.0.5, 10.1.0.0/16`` as the environment writes it; a bare address is a /32."""
        if isinstance(value, str):
            value = [part for part in value.replace(",", " ").split() if part]
        if isinstance(value, list | tuple):
            return [ip_network(str(part), strict=False) for part in value]
        return value

    @field_validator("audit_key")
    @classmethod
    def _long_enough(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and len(key.get_secret_value()) < 32:
            raise ValueError("the audit key needs 32 characters or more (openssl rand -hex 32)")
        return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
