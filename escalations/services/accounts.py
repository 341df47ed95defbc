"""Signing in to the API and out again, and changing a password. API tokens are django-rest-knox's: each
sign-in gets its own (one per device or script), stored only as a digest and valid for
``PERCOLATE_API_TOKEN_TTL``. Creating, revoking and changing a password each write one audit event, which
names a token by the start of its digest — never by the token, which only its holder ever sees.

A password change revokes every API token of the user and signs out their other sessions: Django refuses a
session whose stored password hash no longer matches, so changing the hash is what signs them out (the
page keeps its own session with ``update_session_auth_hash``)."""

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from core.errors import ActionForbidden, InvalidInput

from ..audit_trail import Verb
from .events import event_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# How many characters of a token's digest name it in the audit trail: enough to tell a user's tokens apart.
TOKEN_ID_LENGTH = 16


def token_id(token: AuthToken) -> str:
    """How the audit trail names a token: the start of its SHA-512 digest (which cannot be turned back into
    the token)."""
    return str(token.digest[:TOKEN_ID_LENGTH])


def token_create(*, user: "User") -> tuple[AuthToken, str]:
    """A new API token for ``user``, valid for ``PERCOLATE_API_TOKEN_TTL``; the user's other tokens are kept
    (one per device). Writes one ``auth.token_created`` event. Returns the stored row and the token itself,
    which is shown to the caller once and stored nowhere. Each call makes a new token, and deletes the
    user's expired ones (they no longer work: no event for them)."""
    with transaction.atomic():
        AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
        instance, token = AuthToken.objects.create(user=user, expiry=settings.PERCOLATE_API_TOKEN_TTL)
        event_record(
            verb=Verb.TOKEN_CREATED, actor=user, data={"token_id": token_id(instance), "expiry": instance.expiry}
        )
    return instance, token


def token_revoke(*, token: AuthToken, actor: "User", reason: str = "signed out") -> bool:
    """Revoke one API token: it answers 401 from now on. Writes one ``auth.token_revoked`` event. Safe to
    repeat and to race: only the call that deletes the row writes the event; returns whether it did."""
    with transaction.atomic():
        deleted, _ = AuthToken.objects.filter(digest=token.digest).delete()
        if not deleted:
            return False
        event_record(verb=Verb.TOKEN_REVOKED, actor=actor, data=_revoked(token.user, [token_id(token)], reason))
    return True


def tokens_revoke_all(*, user: "User", actor: "User", reason: str = "signed out everywhere") -> int:
    """Revoke every API token of ``user``. Writes one ``auth.token_revoked`` event listing them, or nothing
    when there was none. Safe to repeat. Returns how many were revoked."""
    with transaction.atomic():
        revoked = _revoke_all(user)
        if revoked:
            event_record(verb=Verb.TOKEN_REVOKED, actor=actor, data=_revoked(user, revoked, reason))
    return len(revoked)


def password_change(*, user: "User", password: str | None, actor: "User") -> int:
    """Set ``user``'s password (checked against the password rules; ``None``: no password sign-in at all,
    as the admin offers) and revoke all their API tokens; their sessions signed in with the old password
    end at their next request. ``actor`` is the user themself or an administrator (who may change users in
    the Django admin). Writes one ``auth.password_changed`` event (never the password) naming the tokens
    revoked. Returns how many tokens were revoked."""
    if actor.pk != user.pk and not actor.has_perm("auth.change_user"):
        raise ActionForbidden("Only an administrator changes another person's password.")
    if password is not None:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise InvalidInput({"password": " ".join(error.messages)}) from None
    with transaction.atomic():
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save(update_fields=["password"])
        revoked = _revoke_all(user)
        event_record(
            verb=Verb.PASSWORD_CHANGED,
            actor=actor,
            data={
                "user": user.get_username(),
                "user_id": user.pk,
                "password_sign_in": password is not None,
                "tokens_revoked": revoked,
            },
        )
    return len(revoked)


def _revoke_all(user: "User") -> list[str]:
    """Delete the user's tokens; the ids of those deleted. The rows are locked first so that a concurrent
    revocation of the same tokens cannot make both report them."""
    tokens = list(AuthToken.objects.select_for_update().filter(user=user).order_by("digest"))
    AuthToken.objects.filter(digest__in=[token.digest for token in tokens]).delete()
    return [token_id(token) for token in tokens]


def _revoked(user: "User", ids: list[str], reason: str) -> dict[str, Any]:
    return {"user": user.get_username(), "user_id": user.pk, "token_ids": ids, "reason": reason}
