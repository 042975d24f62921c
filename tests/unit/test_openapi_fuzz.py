"""The OpenAPI document fuzzed against the server (schemathesis, over HTTP to gunicorn as deployed):
whatever it generates, valid or not, the answer is never a 5xx and always one the document declares
(status, content type, body schema), with authentication off and on. Every upstream is a fake on
127.0.0.1, so no 5xx is legitimate."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.fakes.livekit import TEST_API_KEY, TEST_API_SECRET
from tests.fakes.s3 import s3_server  # noqa: F401 - fixture
from tests.serving import gunicorn

_SECRET = "fuzz-secret-token"
_EXAMPLES = 25  # per operation: bounded, so the run stays within minutes


@pytest.fixture(params=["auth off", "auth on"])
def auth_on(request) -> bool:
    return request.param == "auth on"


@pytest.fixture
def fuzzed_schema(tmp_path, database_url, livekit, s3_server, auth_on):  # noqa: F811 - fixture
    env = {
        "LIVEKIT_URL": livekit.url.replace("http://", "ws://"),
        "LIVEKIT_API_KEY": TEST_API_KEY,
        "LIVEKIT_API_SECRET": TEST_API_SECRET,
        "SIP_ROOM_PREFIX": "sip-",
        "SIP_OUTBOUND_ADDRESS": "sip.example.com",
        **s3_server.env(s3_server.new_bucket()),
    }
    if auth_on:
        env.update(AUTH_REQUIRED="true", AUTH_API_SECRETS_JSON=json.dumps([{"id": "acme", "secret": _SECRET}]))
    with gunicorn(tmp_path, DATABASE_URL=database_url, SIP_HOOKS_ALLOW_PRIVATE="true", **env) as served:
        yield schemathesis.openapi.from_url(served.url + "/openapi.json")


def test_no_answer_is_a_server_error_or_undocumented(fuzzed_schema, auth_on):
    failures = []
    for loaded in fuzzed_schema.get_all_operations():
        operation = loaded.ok()

        # Both phases: cases valid by the document (which must not fail) and invalid ones (which must be a
        # documented 4xx).
        @given(
            case=operation.as_strategy() | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
            with_token=st.booleans() if auth_on else st.just(False),
        )
        @settings(max_examples=_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case, with_token):
            # A request valid by the document may still be refused by rules it cannot express (a voice
            # the provider lacks, a room that is gone): such a refusal must be a documented 4xx, which the
            # other checks verify, so "schema-valid request rejected" is not a failure here. Without the
            # token, the 401 must be documented too.
            case.call_and_validate(
                headers={"Authorization": f"Bearer {_SECRET}"} if with_token else None,
                excluded_checks=[positive_data_acceptance],
            )

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:  # every operation is fuzzed; all failures reported at once
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
