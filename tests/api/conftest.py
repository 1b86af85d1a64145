import pytest
from rest_framework.test import APIClient

from api.models import ApiToken


@pytest.fixture
def token_for(db, manager):
    """An API client authenticated with a fresh token of `user`."""

    def make(user):
        _, secret = ApiToken.issue(user=user, name="tests", by=manager)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        api.secret = secret
        return api

    return make


@pytest.fixture
def api(token_for, practitioner):
    """The aesthetician's API client."""
    return token_for(practitioner)


@pytest.fixture
def manager_api(token_for, manager):
    return token_for(manager)
