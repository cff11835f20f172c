"""Time-based one-time passwords (TOTP, RFC 6238) for the second factor of a staff log-in.

The user's authenticator app (any TOTP app: 微信/支付宝 mini programs, FreeOTP, Google or
Microsoft Authenticator) and the server share a random secret; both derive a six-digit code
from it and the current 30-second step. Nothing leaves the county: no SMS, no cloud service.
"""

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
#: Codes of the step before and after are accepted too: the phone's clock may be a little off.
DRIFT_STEPS = 1


def new_secret() -> str:
    """A random 160-bit secret in base32, as authenticator apps expect it."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def counter_at(when: float | None = None) -> int:
    return int((time.time() if when is None else when) // STEP_SECONDS)


def code_for(secret: str, counter: int) -> str:
    """The code of ``secret`` for one time step (HOTP, RFC 4226, with SHA-1 as apps use)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def current_code(secret: str, when: float | None = None) -> str:
    return code_for(secret, counter_at(when))


def match(secret: str, code: str, *, after_counter: int = 0, when: float | None = None):
    """The time step whose code ``code`` is, or None. Steps up to ``after_counter`` (already
    used) never match, so a code seen over someone's shoulder cannot be used a second time."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = counter_at(when)
    for counter in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if counter > after_counter and hmac.compare_digest(code_for(secret, counter), code):
            return counter
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
