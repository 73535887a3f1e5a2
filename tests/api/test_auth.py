"""Tokens: a verified token is remembered, but never past its expiry, and remembering one token
never lets a different (tampered) one through."""

import time

import jwt
import pytest

from api import auth

KEY = "k" * 48


def token(sub: str, exp: float) -> str:
    return jwt.encode({"sub": sub, "exp": int(exp)}, KEY, algorithm=auth.ALGORITHM)


def test_a_remembered_token_still_expires() -> None:
    exp = int(time.time()) + 2
    t = token("acct_1", exp)
    assert auth.account_id_from(t, KEY) == "acct_1"
    assert (t, KEY) in auth._verified
    assert auth.account_id_from(t, KEY) == "acct_1"  # remembered
    time.sleep(max(exp - time.time(), 0) + 0.1)
    with pytest.raises(auth.BadToken):
        auth.account_id_from(t, KEY)


def test_a_tampered_or_foreign_token_is_verified_afresh() -> None:
    t = token("acct_2", time.time() + 60)
    assert auth.account_id_from(t, KEY) == "acct_2"
    header, _claims, signature = t.split(".")
    forged = ".".join((header, token("acct_admin", time.time() + 60).split(".")[1], signature))
    with pytest.raises(auth.BadToken):
        auth.account_id_from(forged, KEY)
    with pytest.raises(auth.BadToken):
        auth.account_id_from(t, "another key " * 4)
