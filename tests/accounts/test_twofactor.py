"""TOTP codes as RFC 6238 defines them, and as authenticator apps compute them."""

import base64

from dangan.accounts import twofactor

#: RFC 6238 appendix B, SHA-1: the secret "12345678901234567890"; codes cut to six digits.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


def test_codes_match_the_rfc_6238_test_vectors():
    assert twofactor.current_code(RFC_SECRET, when=59) == "287082"
    assert twofactor.current_code(RFC_SECRET, when=1111111109) == "081804"
    assert twofactor.current_code(RFC_SECRET, when=2000000000) == "279037"


def test_a_code_of_the_neighbouring_step_is_accepted_once():
    now = 1_700_000_000
    previous = twofactor.code_for(RFC_SECRET, twofactor.counter_at(now) - 1)
    step = twofactor.match(RFC_SECRET, previous, when=now)
    assert step == twofactor.counter_at(now) - 1
    assert twofactor.match(RFC_SECRET, previous, after_counter=step, when=now) is None
    current = twofactor.code_for(RFC_SECRET, twofactor.counter_at(now))
    spaced = f"{current[:3]} {current[3:]}"  # as some apps show it
    assert twofactor.match(RFC_SECRET, spaced, when=now) == twofactor.counter_at(now)
    assert twofactor.match(RFC_SECRET, current, when=now + 90) is None  # three steps late
    assert twofactor.match(RFC_SECRET, "abcdef", when=now) is None


def test_the_address_for_the_app_carries_the_secret_and_issuer():
    uri = twofactor.provisioning_uri(RFC_SECRET, account="王静", issuer="Dangan")
    assert uri.startswith("otpauth://totp/Dangan%3A%E7%8E%8B%E9%9D%99?")
    assert f"secret={RFC_SECRET}" in uri and "issuer=Dangan" in uri


def test_the_qr_code_is_inline_svg_without_inline_style():
    svg = twofactor.qr_svg("otpauth://totp/x?secret=AAAA")
    assert svg.startswith("<svg") and "style=" not in svg and "<script" not in svg


def test_a_code_with_a_leading_zero_is_accepted():
    counter = next(c for c in range(1000) if twofactor.code_for(RFC_SECRET, c).startswith("0"))
    code = twofactor.code_for(RFC_SECRET, counter)
    assert len(code) == 6
    assert twofactor.match(RFC_SECRET, code, when=counter * 30) == counter
