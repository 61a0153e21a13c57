"""Settings read from the environment (prefix ``MILEAGE_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path("var") / "mileage.sqlite3"


class Settings(BaseSettings):
    """The service's settings; every field can be set as ``MILEAGE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="MILEAGE_", extra="ignore")

    database_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    late_entry_days: int | None = None
    rules_dir: str | None = None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
