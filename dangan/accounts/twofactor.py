"""Time-based one-time passwords (TOTP, RFC 6238) for the second factor of a staff log-in.

The user's authenticator app (any TOTP app: 微信/支付宝 mini programs, FreeOTP, Google or
Microsoft Authenticator) and the server share a random secret; both derive a six-digit code
from it and the current 30-second step. Nothing leaves the county: no SMS, no cloud service.

The secrets are kept encrypted in the database (``SecretField``): AES-256-GCM under a key
derived (HKDF-SHA256) from Django's ``SECRET_KEY``, so a copy of the database alone — a dump,
a replica, an SQL injection — does not give anyone the codes of the staff. A ``SECRET_KEY``
that is changed must be kept in ``DANGAN_SECRET_KEY_FALLBACKS`` until every user has logged
in again (secrets are re-encrypted under the new key as they are used); a secret that no key
opens counts as no device: the security administrator resets the second factor.
"""

import base64
import logging
import os
import secrets
import time
from urllib.parse import quote, urlencode

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models
from django_otp import oath

logger = logging.getLogger(__name__)

STEP_SECONDS = 30
DIGITS = 6
#: Codes of the step before and after are accepted too: the phone's clock may be a little off.
DRIFT_STEPS = 1


def new_secret() -> str:
    """A random 160-bit secret in base32, as authenticator apps expect it."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def counter_at(when: float | None = None) -> int:
    return int((time.time() if when is None else when) // STEP_SECONDS)


def _key(secret: str) -> bytes:
    return base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))


def code_for(secret: str, counter: int) -> str:
    """The code of ``secret`` for one time step (HOTP, RFC 4226, with SHA-1 as apps use)."""
    return str(oath.hotp(_key(secret), counter, digits=DIGITS)).zfill(DIGITS)


def current_code(secret: str, when: float | None = None) -> str:
    return code_for(secret, counter_at(when))


def match(secret: str, code: str, *, after_counter: int = 0, when: float | None = None):
    """The time step whose code ``code`` is, or None. Steps up to ``after_counter`` (already
    used) never match, so a code seen over someone's shoulder cannot be used a second time.

    The check is django-otp's (``django_otp.oath.TOTP.verify``); the device model stays ours,
    because django-otp's ``TOTPDevice`` keeps its key in plain hex in the database, and ours
    is sealed (``SecretField``) — existing secrets keep working unchanged."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = oath.TOTP(_key(secret), step=STEP_SECONDS, digits=DIGITS)
    if when is not None:
        totp.time = when
    if totp.verify(int(code), tolerance=DRIFT_STEPS, min_t=after_counter + 1):
        return totp.t()
    return None


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    label = quote(f"{issuer}:{account}")
    query = urlencode(
        {"secret": secret, "issuer": issuer, "digits": DIGITS, "period": STEP_SECONDS}
    )
    return f"otpauth://totp/{label}?{query}"


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an inline SVG element (no image request, no inline style)."""
    import segno

    return segno.make(uri, error="m").svg_inline(scale=5, border=2, omitsize=False)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# --- The secret at rest ---------------------------------------------------------------------------
#: Marks a sealed secret; a value without it is a secret stored before encryption.
SEALED_PREFIX = "enc1:"


def _secret_key(django_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"dangan totp secret").derive(
        django_key.encode()
    )


def seal_secret(secret: str) -> str:
    """The secret encrypted (AES-256-GCM, random nonce) under the current ``SECRET_KEY``."""
    nonce = os.urandom(12)
    sealed = AESGCM(_secret_key(settings.SECRET_KEY)).encrypt(nonce, secret.encode(), b"totp")
    return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode()


def open_secret(stored: str) -> str:
    """The plain secret of a stored value; "" when no configured key opens it."""
    if not stored or not stored.startswith(SEALED_PREFIX):
        return stored
    raw = base64.b64decode(stored[len(SEALED_PREFIX) :])
    for django_key in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        try:
            return AESGCM(_secret_key(django_key)).decrypt(raw[:12], raw[12:], b"totp").decode()
        except InvalidTag:
            continue
    logger.warning("A two-factor secret opens under no configured SECRET_KEY.")
    return ""


class SecretField(models.CharField):
    """A TOTP secret: plain in Python, sealed in the database (see the module's docstring)."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else open_secret(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value or value.startswith(SEALED_PREFIX):
            return value
        return seal_secret(value)
