"""``auth/token/`` and ``auth/tokens/``: signing in to the API for a token, and signing out (revoking it, or
all of one's tokens)."""

from django.contrib.auth import authenticate, user_logged_in
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from escalations.services import token_create, token_revoke, tokens_revoke_all

from ..authentication import TokenAuthentication
from ..fields import CharField
from ..serializers.common import ErrorSerializer, ValidationErrorSerializer


class CredentialsSerializer(serializers.Serializer):
    username = CharField()
    password = CharField(trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = CharField(help_text="Send it as `Authorization: Token …`. Shown once, stored nowhere.")
    expiry = serializers.DateTimeField(help_text="When the token stops working; sign in again for a new one.")


class TokenView(APIView):
    """``POST {"username", "password"}`` → ``{"token", "expiry"}``: a new token for this device or script
    (other tokens keep working), then send ``Authorization: Token …``. A wrong username or password answers
    401; repeated failures lock the username out from that address (429), as on the sign-in form.
    ``DELETE`` revokes the token the request was sent with."""

    # Only a token can be revoked here; a POST needs no credentials, and a bad Authorization header on it
    # still answers 401 with ``WWW-Authenticate: Token``.
    authentication_classes = [TokenAuthentication]

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(
        summary="Sign in: get an API token",
        auth=[],
        request=CredentialsSerializer,
        responses={
            200: TokenSerializer,
            400: ValidationErrorSerializer,
            401: ErrorSerializer,
            429: ErrorSerializer,
        },
    )
    def post(self, request):
        credentials = CredentialsSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        # Django's own request: django-axes marks a lockout on it, and its middleware (which sees only
        # Django's request, not DRF's wrapper) then answers 429.
        user = authenticate(request._request, **credentials.validated_data)
        if user is None:
            raise AuthenticationFailed("The username and password do not match.")
        instance, token = token_create(user=user)
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        return Response(TokenSerializer({"token": token, "expiry": instance.expiry}).data)

    @extend_schema(summary="Sign out: revoke this token", responses={204: None, 401: ErrorSerializer})
    def delete(self, request):
        token_revoke(token=request.auth, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokensView(APIView):
    """``DELETE`` revokes every API token of the signed-in user (every device and script), with a token or
    from a signed-in page."""

    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Sign out everywhere: revoke all my tokens", responses={204: None})
    def delete(self, request):
        tokens_revoke_all(user=request.user, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
