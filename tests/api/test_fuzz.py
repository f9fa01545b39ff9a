"""A property-based fuzz of the API against its own OpenAPI document (schemathesis): requests
generated from the schema, valid and invalid, as the public and as each signed-in role, must
never get a server error. What comes back is otherwise free to be any refusal."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from carepool.api import create_app
from carepool.config import Settings
from tests.api.conftest import Site

#: Examples per operation: enough to reach every parameter's edge cases, bounded so the whole
#: fuzz runs in a minute or two.
EXAMPLES = 15
ROLES = ("public", "resident", "finance", "board", "moderator", "auditor")


def test_no_request_gets_a_server_error(site: Site) -> None:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(Settings.from_env()))
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 30
    calls: dict[str, int] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            for role in ROLES:
                headers = (
                    {} if role == "public" else {"Authorization": f"Bearer {site.tokens[role]}"}
                )
                case.call_and_validate(headers=headers, checks=[not_a_server_error])
                calls[case.operation.label] = calls.get(case.operation.label, 0) + 1

        fuzz()
    assert set(calls) == {o.label for o in operations}  # every operation was exercised
