"""API test helpers: clients signed in with a token, as a script or another city system would be."""

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from core.permissions import Role

API = "/api/v1/"


@pytest.fixture
def client_for(db):
    """client_for(user) → an APIClient sending ``Authorization: Token …`` for ``user``."""

    def make(user) -> APIClient:
        client = APIClient()
        if user is not None:
            _, token = AuthToken.objects.create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    return make


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, username="admin")


# Reaching any flag status through the services, as the escalations tests do.
from ..escalations.conftest import ctx, flag_in  # noqa: E402, F401
