"""Access tokens (JWT, HS256 only) and password hashes (argon2). Who may call what is decided by
the routes' policies (``api/deps.py``); this module only proves who is calling."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from matcher.store.base import Account

ALGORITHM = "HS256"  # pinned: a token naming another algorithm (or "none") is refused
_hasher = PasswordHasher()


class BadToken(Exception):
    """The bearer token is missing, malformed, expired or not signed by us."""


def new_account_id() -> str:
    return "acct_" + secrets.token_hex(8)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except VerificationError:
        return False


def issue_token(
    account: Account, key: str, *, now: datetime, ttl_hours: float, session: str | None = None
) -> str:
    """An access token for the account; with ``session``, one that ends when that sign-in is
    revoked (signing out), not only when it expires."""
    claims: dict[str, Any] = {
        "sub": account.id,
        "role": account.role,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=ttl_hours)).timestamp()),
    }
    if session is not None:
        claims["sid"] = session
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def new_session() -> tuple[str, str, str]:
    """A new sign-in: its id, its refresh token (given to the client once) and that token's
    hash (what the store keeps: the token is 256 random bits, so a plain hash suffices)."""
    refresh = secrets.token_urlsafe(32)
    return "ses_" + secrets.token_hex(8), refresh, refresh_hash(refresh)


def refresh_hash(refresh: str) -> str:
    return hashlib.sha256(refresh.encode()).hexdigest()


def keyed_hash(key: str, purpose: str, value: str) -> str:
    """An HMAC of ``value`` under the service's key, for looking a value up without keeping
    it (a national ID number: its ten billion possible values are too few for a plain hash)."""
    return hmac.new(f"{purpose}|{key}".encode(), value.encode(), hashlib.sha256).hexdigest()


VERIFIED_CACHE_SIZE = 10_000
_verified: dict[tuple[str, str], tuple[str, str | None, int]] = {}


def token_claims(token: str, key: str) -> tuple[str, str | None]:
    """The account a signed, unexpired token names, and its sign-in session (None: a token
    from the command line, which ends only when it expires). A token verified before is not
    verified again (its signature cannot have changed; its expiry is checked every time): the
    HMAC and the decoding were a tenth of a recommendation's cost."""
    hit = _verified.get((token, key))
    if hit is not None and time.time() < hit[2]:
        return hit[0], hit[1]
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]})
    except jwt.PyJWTError as e:
        raise BadToken(str(e)) from e
    sub, sid = claims.get("sub"), claims.get("sid")
    if not isinstance(sub, str):
        raise BadToken("the token names no account")
    if sid is not None and not isinstance(sid, str):
        raise BadToken("the token's session is malformed")
    exp = claims.get("exp")
    if isinstance(exp, int):
        if len(_verified) >= VERIFIED_CACHE_SIZE:
            _verified.clear()
        _verified[(token, key)] = (sub, sid, exp)
    return sub, sid


def account_id_from(token: str, key: str) -> str:
    """The account a signed, unexpired token names (see :func:`token_claims`)."""
    return token_claims(token, key)[0]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Links:
    """Signed links in what volunteers are told, that work without signing in: answering an
    emergency call, and unsubscribing from a channel. Each names its purpose (a token for one
    cannot be used for the other, nor as an access token: it names no account)."""

    def __init__(self, key: str, base_url: str) -> None:
        self.key = key
        self.base_url = base_url.rstrip("/")

    def token(self, purpose: str, claims: dict[str, Any], expires_s: int | None = None) -> str:
        body: dict[str, Any] = {"aud": purpose, **claims}
        if expires_s is not None:
            body["exp"] = expires_s
        return jwt.encode(body, self.key, algorithm=ALGORITHM)

    def claims(self, purpose: str, token: str) -> dict[str, Any]:
        """What a link's token says, if it is this service's, for ``purpose``, and unexpired."""
        try:
            found: dict[str, Any] = jwt.decode(token, self.key, algorithms=[ALGORITHM], audience=purpose)
        except jwt.PyJWTError as e:
            raise BadToken(str(e)) from e
        return found

    def call(self, call_id: str, volunteer_id: str, deadline_s: int) -> dict[str, str]:
        """The accept and decline links of an emergency call, for one volunteer."""
        token = self.token("call", {"c": call_id, "v": volunteer_id}, deadline_s + 3600)
        return {
            "accept_url": f"{self.base_url}/calls/{token}?answer=accept",
            "decline_url": f"{self.base_url}/calls/{token}?answer=decline",
        }

    def unsubscribe(self, volunteer_id: str, channel: str) -> str:
        return f"{self.base_url}/unsubscribe/{self.token('unsubscribe', {'v': volunteer_id, 'ch': channel})}"
