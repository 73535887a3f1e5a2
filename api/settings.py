"""Settings, read once at the edge from the environment (prefix ``VOLMATCH_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///var/volmatch.db"


class Settings(BaseSettings):
    """``VOLMATCH_DATABASE_URL`` picks the store: ``sqlite:///path`` (embedded, the default) or,
    from the service issue on, ``postgresql://...``."""

    model_config = SettingsConfigDict(env_prefix="VOLMATCH_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
