"""The API fuzzed from its own OpenAPI schema, with a token for each role.

Schemathesis generates requests for every operation (valid ones, and ones that break the schema
on purpose) and sends them over HTTP to the real server on a small city. For every answer it
checks: no 5xx, the status code is one the operation documents, the body matches the documented
schema, and a request the schema forbids is refused. ``make test`` runs a few examples per
operation and role; ``make fuzz`` runs many (``VOLMATCH_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.auth import issue_token, utcnow
from api.main import create_app
from api.settings import Settings
from matcher.model.domain import ServiceRecord, World
from matcher.store.connect import open_store
from tests.api.served import Served, role_accounts
from tests.api.test_served_operations import next_saturday
from tests.conftest import NOW, activity, volunteer

SECRET = "z" * 40
ROLES = ("volunteer", "organiser", "analyst", "admin")
EXAMPLES = int(os.environ.get("VOLMATCH_FUZZ_EXAMPLES", "2"))
EXPLORE = "VOLMATCH_FUZZ_EXAMPLES" in os.environ
"""``make fuzz`` explores afresh each run; ``make test``'s few examples per operation are the same
every run (a random one once tripped over a request schemathesis itself built wrongly, and CI
must not depend on the draw)."""

# The schema as the service publishes it (building the app does not open a database).
SCHEMA = schemathesis.openapi.from_dict(
    create_app(Settings(environment="test", secret_key=SECRET, database_url="sqlite:///unused.db")).openapi()
)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The real server on a small city, with a token per role; the request budget is lifted
    (the fuzzer is one client sending as fast as it can)."""
    tmp = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{tmp / 'fuzz.db'}"
    store = open_store(url)
    people = tuple(
        volunteer(f"v{i}", 1.0 + i, phone="13800000000", email=f"v{i}@example.org") for i in range(5)
    )
    posts = (activity("a1", shifts=(next_saturday(5),)), activity("a2", organisation_id="o2", shifts=()))
    record = ServiceRecord(
        volunteer_id="v1", activity_id="a1", shift_id="s1", date=NOW.date(), hours=3.0, attended=True
    )
    store.load_world(World(people, posts, (record,)))
    accounts = role_accounts("v1")
    for a in accounts.values():
        store.create_account(a)
    store.close()
    tokens = {role: issue_token(a, SECRET, now=utcnow(), ttl_hours=2) for role, a in accounts.items()}
    with Served(url, SECRET, Path(tmp) / "serve.log", workers=1) as server:
        yield server.base, tokens


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=not EXPLORE
)
def test_generated_requests_get_documented_answers_and_never_a_5xx(
    case: schemathesis.Case, role: str, city: tuple[str, dict[str, str]]
) -> None:
    base, tokens = city
    case.call_and_validate(
        base_url=base,
        headers={"Authorization": f"Bearer {tokens[role]}"},
        # A request the schema allows may still name records that do not exist, or break a
        # rule across fields (a range that ends before it starts): 404 and 422 are right then.
        excluded_checks=[positive_data_acceptance],
        timeout=60,
    )
