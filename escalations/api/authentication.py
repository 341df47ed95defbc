"""How the API knows who is calling: an API token (django-rest-knox's: expiring, revocable, one per sign-in),
sent as ``Authorization: Token …`` as clients always have, or the site's session."""

import re

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.settings import knox_settings
from rest_framework.exceptions import AuthenticationFailed

# What a token can look like: printable ASCII. Anything else (bytes that are not UTF-8, a NUL character that
# PostgreSQL cannot compare) is simply not a token: 401, not a server error.
_TOKEN = re.compile(rb"[\x21-\x7e]{1,256}")


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's token check, refusing malformed tokens before they reach the database. An expired token
    answers 401 and is deleted (expiry is not a revocation: no event)."""

    def authenticate_credentials(self, token: bytes):
        if not _TOKEN.fullmatch(token):
            raise AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(token)

    def _cleanup_token(self, auth_token) -> bool:
        """Whether the presented token has expired. knox would also sweep the user's other expired tokens
        here, one more query on every request; ``token_create`` sweeps them once per sign-in instead."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class TokenScheme(OpenApiAuthenticationExtension):
    """The schema's name for it: ``tokenAuth``, an ``Authorization`` header with the prefix ``Token``."""

    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        prefix = knox_settings.AUTH_HEADER_PREFIX
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix=prefix)
