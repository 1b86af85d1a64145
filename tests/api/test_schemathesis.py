"""Schemathesis against the OpenAPI schema, on a live server with a token: for every endpoint
and method, no 500 and every response as the schema describes it."""

import os

import pytest
import schemathesis
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from pytest_django.live_server_helper import LiveServer
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.models import ApiToken
from consultations.models import ClientAccess


@pytest.fixture(scope="module")
def live_server(request):
    """The live server on plain HTTP (see tests/browser/conftest.py: the HTTPS redirect is
    turned off before the server builds its middleware)."""
    addr = os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS", "localhost")
    with override_settings(SECURE_SSL_REDIRECT=False, API_THROTTLE_RATE="100000/min"):
        server = LiveServer(addr)
    yield server
    server.stop()


@pytest.fixture
def api_schema(live_server, transactional_db, manager, make_course, log):
    """The schema as served, and a manager's token on every request; a client with a course and
    a session, so that ids 1 and up are real records for some calls."""
    log(make_course())
    _, secret = ApiToken.issue(user=manager, name="schemathesis", by=manager)
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    schema.config.headers = {"Authorization": f"Bearer {secret}"}
    return schema


# One test runs every operation: schemathesis' own pytest plugin does not load under pytest 9.
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_api_conforms_to_its_schema_and_never_fails(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    methods = {(op.method.upper(), op.path) for op in operations}
    assert len(methods) >= 29, methods
    failures = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case):
            case.call_and_validate(
                headers=api_schema.config.headers,
                checks=[not_a_server_error, response_schema_conformance],
            )

        try:
            call()
        except (Exception, BaseExceptionGroup) as error:  # every operation's failures, together
            failures.append(f"{operation.method.upper()} {operation.path}: {str(error)[:600]}")
    assert not failures, "\n\n".join(failures)
    # The calls went through the token, and records were read with it (not only refusals).
    assert ApiToken.objects.get(name="schemathesis").last_used_at is not None
    assert ClientAccess.objects.filter(via=ClientAccess.Via.API).exists()
