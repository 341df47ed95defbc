"""Changing a password and signing out: every role changes their own password on a page; a change revokes
the user's API tokens and signs out their other sessions (this one stays); signing out of the site ends the
session. Each change is one audit event, with no secret in it."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from core.errors import ActionForbidden, InvalidInput
from core.permissions import Role
from escalations.models import Event
from escalations.services import password_change, token_create

NEW = "a-much-longer-passphrase-42"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def password_is(user, password: str) -> bool:
    user.refresh_from_db()
    return user.check_password(password)


def api_status(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/v1/me/").status_code


def change(client, old="pw", new=NEW, again=None):
    return client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": new, "new_password2": again or new},
        follow=True,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_every_role_changes_their_password_on_the_page(make_user, agency, role):
    user = make_user(role, agencies=[agency] if role == Role.LIAISON else [])
    client = signed_in(user)
    page = client.get("/")
    assert reverse("password_change") in page.text  # in the header, for everyone
    assert client.get(reverse("password_change")).status_code == 200
    response = change(client)
    assert response.status_code == 200 and response.redirect_chain[-1][0] == reverse("dashboard")
    assert "Password changed" in response.text
    assert password_is(user, NEW)


@pytest.mark.django_db
def test_a_change_revokes_every_api_token_and_the_other_sessions_but_keeps_this_one(liaison):
    _, laptop = token_create(user=liaison)
    _, script = token_create(user=liaison)
    here, elsewhere = signed_in(liaison), signed_in(liaison)
    response = change(here)
    assert "2 API tokens revoked" in response.text
    assert api_status(laptop) == api_status(script) == 401
    assert not AuthToken.objects.filter(user=liaison).exists()
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").url.startswith(reverse("login"))
    (event,) = Event.objects.filter(verb="auth.password_changed")
    assert event.actor == liaison and event.data["user"] == "liaison" and len(event.data["tokens_revoked"]) == 2
    text = json.dumps(event.data)
    assert NEW not in text and laptop not in text and script not in text and "pbkdf2" not in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("old", "new", "again", "problem"),
    [
        ("wrong", NEW, None, "old password was entered incorrectly"),
        ("pw", NEW, NEW + "x", "didn’t match"),
        ("pw", "12345678", None, "too common"),
    ],
)
def test_a_refused_change_changes_nothing(liaison, old, new, again, problem):
    _, token = token_create(user=liaison)
    client = signed_in(liaison)
    response = change(client, old, new, again)
    assert response.status_code == 400 and problem in response.text
    assert api_status(token) == 200
    assert password_is(liaison, "pw")
    assert not Event.objects.filter(verb="auth.password_changed").exists()


@pytest.mark.django_db
def test_the_page_is_for_signed_in_users(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_signing_out_of_the_site_ends_the_session(liaison):
    client = signed_in(liaison)
    assert client.get("/").status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get("/").url.startswith(reverse("login"))


@pytest.mark.django_db
class TestService:
    def test_only_an_administrator_changes_another_persons_password(self, liaison, lead, make_user):
        with pytest.raises(ActionForbidden):
            password_change(user=liaison, password=NEW, actor=lead)
        admin = make_user(Role.ADMIN, username="boss")
        admin.is_superuser = True
        admin.save()
        _, token = token_create(user=liaison)
        assert password_change(user=liaison, password=NEW, actor=admin) == 1
        assert api_status(token) == 401
        (event,) = Event.objects.filter(verb="auth.password_changed")
        assert event.actor == admin and event.data["user"] == "liaison"

    def test_a_weak_password_is_refused_before_anything_is_written(self, liaison):
        with pytest.raises(InvalidInput) as refused:
            password_change(user=liaison, password="liaison", actor=liaison)
        assert "password" in refused.value.fields
        assert not Event.objects.filter(verb="auth.password_changed").exists()


@pytest.mark.django_db
class TestAdmin:
    @pytest.fixture
    def admin_client(self, make_user):
        from django.contrib.auth import get_user_model

        root = get_user_model().objects.create_superuser("root", password="pw")
        client = Client()
        client.force_login(root)
        return client, root

    def test_the_admins_password_form_goes_through_the_service(self, admin_client, liaison):
        client, root = admin_client
        _, token = token_create(user=liaison)
        url = reverse("admin:auth_user_password_change", args=[liaison.pk])
        response = client.post(url, {"password1": NEW, "password2": NEW, "usable_password": "true"})
        assert response.status_code == 302
        assert api_status(token) == 401
        assert password_is(liaison, NEW)
        (event,) = Event.objects.filter(verb="auth.password_changed")
        assert event.actor == root and event.data["password_sign_in"] is True

    def test_deleting_a_token_in_the_admin_revokes_it_with_its_event(self, admin_client, liaison):
        client, root = admin_client
        instance, token = token_create(user=liaison)
        assert client.get(reverse("admin:knox_authtoken_changelist")).status_code == 200
        url = reverse("admin:knox_authtoken_delete", args=[instance.pk])
        assert client.post(url, {"post": "yes"}).status_code == 302
        assert api_status(token) == 401
        (event,) = Event.objects.filter(verb="auth.token_revoked")
        assert event.actor == root and event.data["reason"] == "revoked in the admin"
        assert client.get(reverse("admin:knox_authtoken_add")).status_code == 403


@pytest.mark.django_db
def test_the_audit_log_shows_account_events_to_those_who_read_everything(liaison, auditor):
    token_create(user=liaison)
    password_change(user=liaison, password=NEW, actor=liaison)
    shown = signed_in(auditor).get(reverse("audit_log"), follow=True).text
    assert "created an API token" in shown and "changed the password of liaison" in shown
    own = signed_in(liaison).get(reverse("audit_log"), follow=True).text
    assert "created an API token" not in own
