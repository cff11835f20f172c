"""统一身份认证: citizens log in through the provincial government's single sign-on.

An OpenID Connect client (authlib) configured by the environment (``DANGAN_OIDC_*``): the
authorization code flow with PKCE (S256), a state and a nonce kept in the session, and the ID
token's signature (from the provider's published keys), issuer, audience, expiry and nonce
verified before anyone is logged in. The provider's metadata is read from
``<issuer>/.well-known/openid-configuration``; its issuer must be the one configured.
"""

import functools

from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.urls import reverse
from requests import RequestException

#: Seconds to wait for the provider's answers (discovery, keys, token).
TIMEOUT = 10


class SignOnError(Exception):
    """The single sign-on did not vouch for anyone: cancelled, refused, forged or unreachable."""


def enabled() -> bool:
    return bool(settings.DANGAN_OIDC_ISSUER and settings.DANGAN_OIDC_CLIENT_ID)


@functools.lru_cache(maxsize=4)
def _client(issuer: str, client_id: str, secret: str, scopes: str, auth_method: str):
    return OAuth().register(
        name="province",
        client_id=client_id,
        client_secret=secret,
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": scopes,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": auth_method,
            "default_timeout": TIMEOUT,
        },
    )


def client():
    return _client(
        settings.DANGAN_OIDC_ISSUER,
        settings.DANGAN_OIDC_CLIENT_ID,
        settings.DANGAN_OIDC_CLIENT_SECRET,
        settings.DANGAN_OIDC_SCOPES,
        settings.DANGAN_OIDC_TOKEN_AUTH,
    )


def _metadata(app) -> dict:
    metadata = app.load_server_metadata()
    if metadata.get("issuer", "").rstrip("/") != settings.DANGAN_OIDC_ISSUER.rstrip("/"):
        raise SignOnError("the provider names another issuer")
    return metadata


def start(request):
    """The redirect to the provider's log-in page (state, nonce and PKCE verifier kept)."""
    app = client()
    redirect_uri = settings.DANGAN_OIDC_REDIRECT_URI or request.build_absolute_uri(
        reverse("portal:portal-oidc-callback")
    )
    try:
        _metadata(app)
        return app.authorize_redirect(request, redirect_uri)
    except (OAuthError, RequestException, ValueError) as exc:
        raise SignOnError(str(exc)) from exc


def finish(request) -> tuple[str, dict]:
    """(issuer, verified ID-token claims) of the person the provider sent back."""
    app = client()
    try:
        metadata = _metadata(app)
        token = app.authorize_access_token(request)
    except (OAuthError, RequestException, ValueError) as exc:
        raise SignOnError(str(exc)) from exc
    except Exception as exc:  # joserfc's errors: a bad signature, a wrong audience, expired
        if type(exc).__module__.startswith(("joserfc", "authlib")):
            raise SignOnError(str(exc)) from exc
        raise
    claims = token.get("userinfo")
    if not claims:
        raise SignOnError("no ID token")
    return metadata["issuer"], dict(claims)
