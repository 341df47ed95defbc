"""API tokens: one per sign-in, expiring, revoked by signing out (this token, or all of one's tokens), each
creation and revocation written once to the audit trail without the token in it."""

import datetime as dt
import json

import pytest
import time_machine
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from escalations.models import Event

from .conftest import API

JSON = "application/json"


def sign_in(username="liaison", password="pw"):
    return APIClient().post(f"{API}auth/token/", {"username": username, "password": password}, format="json")


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def me(token: str) -> int:
    return with_token(token).get(f"{API}me/").status_code


def events(verb: str) -> list[Event]:
    return list(Event.objects.filter(verb=verb).order_by("id"))


@pytest.mark.django_db
class TestSignIn:
    def test_each_sign_in_gets_its_own_token_that_expires_after_the_ttl(self, liaison, settings):
        settings.PERCOLATE_API_TOKEN_TTL = dt.timedelta(hours=2)
        first, second = sign_in(), sign_in()
        assert first.status_code == second.status_code == 200
        assert set(first.json()) == {"token", "expiry"}
        assert first.json()["token"] != second.json()["token"]
        expiry = dt.datetime.fromisoformat(first.json()["expiry"])
        assert abs(expiry - (timezone.now() + dt.timedelta(hours=2))) < dt.timedelta(minutes=1)
        assert me(first.json()["token"]) == me(second.json()["token"]) == 200

    def test_a_token_past_its_expiry_answers_401(self, liaison, settings):
        settings.PERCOLATE_API_TOKEN_TTL = dt.timedelta(minutes=5)
        token = sign_in().json()["token"]
        with time_machine.travel(timezone.now() + dt.timedelta(minutes=4)):
            assert me(token) == 200
        with time_machine.travel(timezone.now() + dt.timedelta(minutes=6)):
            response = with_token(token).get(f"{API}me/")
        assert response.status_code == 401 and response.json()["detail"] == "Invalid token."
        assert not AuthToken.objects.filter(user=liaison).exists()

    def test_wrong_credentials_answer_401_and_write_nothing(self, liaison):
        for username, password in [("liaison", "wrong"), ("nobody", "pw")]:
            response = sign_in(username, password)
            assert response.status_code == 401
            assert response.json() == {"detail": "The username and password do not match."}
            assert response["WWW-Authenticate"] == "Token"
        assert not AuthToken.objects.exists() and not Event.objects.filter(verb__startswith="auth.").exists()

    def test_it_takes_json_only_and_both_fields(self, client, liaison):
        form = client.post(f"{API}auth/token/", {"username": "liaison", "password": "pw"})
        assert form.status_code == 415
        missing = client.post(f"{API}auth/token/", {"username": "liaison"}, content_type=JSON)
        assert missing.status_code == 400 and "password" in missing.json()["fields"]

    @pytest.mark.parametrize("header", ["Token \xff\xfe", "Token abc\x00def", "Token " + "a" * 300, "Token"])
    def test_a_malformed_token_is_a_401_not_a_server_error(self, client, liaison, header):
        assert client.get(f"{API}me/", HTTP_AUTHORIZATION=header).status_code == 401

    def test_creation_is_one_event_that_names_the_token_without_giving_it_away(self, liaison):
        token = sign_in().json()["token"]
        (created,) = events("auth.token_created")
        stored = AuthToken.objects.get(user=liaison)
        assert created.actor == liaison
        assert created.data["token_id"] == stored.digest[:16]
        text = json.dumps(created.data)
        assert token not in text and stored.token_key not in text


@pytest.mark.django_db
class TestSignOut:
    def test_delete_revokes_the_token_of_the_request_and_only_that_one(self, liaison):
        kept, revoked = sign_in().json()["token"], sign_in().json()["token"]
        assert with_token(revoked).delete(f"{API}auth/token/").status_code == 204
        assert me(revoked) == 401
        assert me(kept) == 200
        assert with_token(revoked).delete(f"{API}auth/token/").status_code == 401
        (event,) = events("auth.token_revoked")
        assert event.actor == liaison and event.data["reason"] == "signed out" and len(event.data["token_ids"]) == 1
        assert revoked not in json.dumps(event.data) and kept not in json.dumps(event.data)

    def test_delete_tokens_revokes_every_token_of_the_user_and_no_one_elses(self, liaison, lead):
        tokens = [sign_in().json()["token"] for _ in range(3)]
        others = sign_in("lead").json()["token"]
        assert with_token(tokens[0]).delete(f"{API}auth/tokens/").status_code == 204
        assert [me(token) for token in tokens] == [401, 401, 401]
        assert me(others) == 200
        (event,) = events("auth.token_revoked")
        assert len(event.data["token_ids"]) == 3 and event.data["user"] == "liaison"

    def test_a_signed_in_page_can_revoke_all_tokens_but_has_no_token_of_its_own_to_revoke(self, client, liaison):
        token = sign_in().json()["token"]
        client.force_login(liaison)
        assert client.delete(f"{API}auth/token/").status_code == 401
        assert client.delete(f"{API}auth/tokens/").status_code == 204
        assert me(token) == 401

    def test_revoking_nothing_writes_no_event(self, client, liaison):
        client.force_login(liaison)
        assert client.delete(f"{API}auth/tokens/").status_code == 204
        assert events("auth.token_revoked") == []


@pytest.mark.django_db
def test_the_schema_documents_signing_in_and_out(client):
    paths = client.get(f"{API}schema/?format=json").json()["paths"]
    assert {"200", "400", "401", "429"} <= set(paths["/api/v1/auth/token/"]["post"]["responses"])
    assert list(paths["/api/v1/auth/token/"]["post"]["requestBody"]["content"]) == [JSON]
    assert "204" in paths["/api/v1/auth/token/"]["delete"]["responses"]
    assert "204" in paths["/api/v1/auth/tokens/"]["delete"]["responses"]
