"""The API fuzzed from its own OpenAPI document (schemathesis): no input gives a 5xx.

Runs against a real appliance with the admin token, so every operation is reached past
authentication. The suite runs a bounded number of examples per operation; `make fuzz` more.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.appliance_process import Running

EXAMPLES = 400 if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else 15


@pytest.fixture(scope="module")
def api_schema(appliance: Running) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(
        f"{appliance.url}/openapi.json",
        headers={"Authorization": f"Bearer {appliance.token}"},
    )


# A restart ends the appliance under test by design (tests/api/test_api_config.py covers it),
# and the server-sent-events stream never ends (tests/api/test_api_stream.py covers it).
schema = schemathesis.pytest.from_fixture("api_schema").exclude(
    path_regex=r"/restart$|/stream/sse$"
)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_is_a_server_error(case: schemathesis.Case, appliance: Running) -> None:
    response = case.call(headers={"Authorization": f"Bearer {appliance.token}"})
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
    content_type = " ".join(response.headers.get("content-type", []))
    if response.status_code >= 400 and content_type.startswith("application/json"):
        body = response.json()
        assert isinstance(body.get("error"), str) and "\n" not in body["error"], body
