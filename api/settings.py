"""Settings, read once at the edge from the environment (prefix ``VOLMATCH_``)."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from matcher.operations.recognition import Tiers
from matcher.store.operations import Policy

DEFAULT_DATABASE_URL = "sqlite:///var/volmatch.db"
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    """``VOLMATCH_DATABASE_URL`` picks the store: ``sqlite:///path`` (embedded, the default) or
    ``postgresql://...``. ``VOLMATCH_SECRET_KEY`` signs access tokens: required (32+ characters)
    outside development; in development, when unset, a random one is kept beside the database
    so that tokens from ``volmatch user create`` work with ``volmatch serve``."""

    model_config = SettingsConfigDict(env_prefix="VOLMATCH_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    environment: str = "development"
    secret_key: str | None = None
    token_ttl_hours: float = 24 * 30
    max_body_bytes: int = 1 << 20
    max_import_bytes: int = 256 << 20
    geocoder: str = "gazetteer"
    geocoder_api_key: str | None = None
    geocoder_user_agent: str = "volmatch"
    smtp_url: str | None = None
    """Where e-mail goes (``smtp://user:password@host:port``, ``smtps://`` for TLS, ``?starttls=1``
    to upgrade); unset: volunteers are told in the console inbox only."""
    mail_from: str = "volmatch@localhost"
    sms_gateway_url: str | None = None
    """An HTTP gateway for SMS (see ``api.usecases.dispatch.Gateway`` for what it is sent);
    unset: no SMS."""
    sms_gateway_token: str | None = None
    sms_templates: str | None = None
    """The SMS provider's registered template per kind: ``reminder=SMS_1,emergency_call=SMS_2``."""
    wechat_gateway_url: str | None = None
    """An HTTP gateway for WeChat template messages, as for SMS; unset: no WeChat."""
    wechat_gateway_token: str | None = None
    wechat_templates: str | None = None
    notify_claim_seconds: int = Field(default=60, ge=1, le=3600)
    """How long a dispatcher holds a claimed delivery; one that dies mid-send leaves its claims
    to another after this long (sent again: the receiver counts a delivery key once). Keep it
    well above the time a batch (500) takes to send, or live dispatchers send twice too."""
    public_url: str = "http://127.0.0.1:8000"
    """Where volunteers reach this service: the links in messages (answer a call, unsubscribe)."""
    receipts_token: str | None = None
    """What gateways send (``Authorization: Bearer``) with delivery receipts; unset: receipts refused."""
    notify: bool = True
    """Run a dispatcher in each serving worker (``VOLMATCH_NOTIFY=false``: leave it to
    ``volmatch notify``)."""
    tier_hours: str = "100,300,600,1000,1500"
    """Recognition tiers: approved hours at which each star is reached (the national scale)."""
    cancel_cutoff_hours: float = Field(default=24.0, ge=0, le=24 * 30)
    """A cancellation less than this long before the shift starts is a late cancellation."""
    offer_hold_minutes: float = Field(default=120.0, gt=0, le=24 * 60 * 7)
    """How long a place freed up is held for the first on the waitlist before it passes on."""

    rate_per_s: float = Field(default=20.0, ge=0, le=1e6)
    """Requests a second each signed-in account may make on average, per worker (0: no limit)."""
    rate_burst: float = Field(default=60.0, ge=1, le=1e6)
    """Requests an account may make at once before ``rate_per_s`` applies."""
    sign_ins_per_minute: float = Field(default=10.0, gt=0, le=1e6)
    """Password sign-in attempts per account name and minute, per worker."""
    sign_ins_per_address_per_minute: float = Field(default=30.0, gt=0, le=1e6)
    """Password sign-in attempts per client address and minute, per worker (many names tried
    from one place)."""
    registrations_per_hour: float = Field(default=20.0, gt=0, le=1e6)
    """Registrations and phone codes per client address and hour, per worker (each number gets
    at most 5 codes an hour whatever the address)."""
    access_token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    """How long an access token from ``/api/v1/auth/token`` lives (a refresh token renews it)."""
    query_timeout_s: float = Field(default=10.0, gt=0, le=3600)
    """A database statement running longer is cancelled and the request answered 503 (bulk
    imports are exempt: they run as long as their data needs)."""

    @field_validator("tier_hours")
    @classmethod
    def _tiers(cls, value: str) -> str:
        Tiers.parse(value)  # refuses thresholds that are not positive and increasing
        return value

    def tiers(self) -> Tiers:
        return Tiers.parse(self.tier_hours)

    def policy(self) -> Policy:
        return Policy(
            int(self.cancel_cutoff_hours * 3600), int(self.offer_hold_minutes * 60), self.tiers().thresholds
        )

    @field_validator("environment")
    @classmethod
    def _known_environment(cls, value: str) -> str:
        if value not in ("development", "test", "production"):
            raise ValueError("must be development, test or production")
        return value

    def signing_key(self) -> str:
        """The token signing key; refuses to make one up outside development."""
        if self.secret_key is not None:
            if len(self.secret_key) < MIN_SECRET_LENGTH:
                raise ValueError(f"VOLMATCH_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")
            return self.secret_key
        if self.environment != "development":
            raise ValueError("set VOLMATCH_SECRET_KEY (32+ random characters) outside development")
        path = self._secret_path()
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip()

    def _secret_path(self) -> Path:
        url = self.database_url
        if url.startswith("sqlite:///"):
            return Path(url.removeprefix("sqlite:///")).with_suffix(".secret")
        return Path("var") / "volmatch.secret"
