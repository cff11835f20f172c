"""The client's address: X-Forwarded-For is believed only from a trusted proxy, and then the
rate limits and the audit trail count the client behind it, not the proxy."""

import pytest
from django.test import RequestFactory

from dangan.audit.models import AuditEvent
from dangan.security.clients import client_address

PROXY = "10.0.0.1"


def _address(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **extra))


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.DANGAN_TRUSTED_PROXIES = []
    assert _address("198.51.100.9", "203.0.113.5") == "198.51.100.9"
    assert _address("") == "unknown"


@pytest.mark.parametrize(
    "remote, forwarded, client",
    [
        (PROXY, "203.0.113.5", "203.0.113.5"),
        (PROXY, "1.2.3.4, 203.0.113.5", "203.0.113.5"),  # the leftmost was written by the client
        (PROXY, "203.0.113.5, 10.0.0.7", "203.0.113.5"),  # two proxies of ours
        (PROXY, "2001:db8::5", "2001:db8::5"),
        (PROXY, "203.0.113.5:51234", "203.0.113.5"),
        (PROXY, "not-an-address", PROXY),
        (PROXY, "", PROXY),
        (PROXY, None, PROXY),
        ("198.51.100.9", "203.0.113.5", "198.51.100.9"),  # not a proxy of ours: a forged header
    ],
)
def test_behind_a_trusted_proxy_the_client_is_the_rightmost_untrusted_hop(
    settings, remote, forwarded, client
):
    settings.DANGAN_TRUSTED_PROXIES = [PROXY, "10.0.0.0/24"]
    assert _address(remote, forwarded) == client


def _login(client, remote, forwarded):
    return client.post(
        "/login/",
        {"username": "nobody", "password": "wrong"},
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


@pytest.mark.django_db
def test_a_forged_header_does_not_escape_the_login_limit(client, settings):
    settings.DANGAN_TRUSTED_PROXIES = [PROXY]
    settings.DANGAN_RATE_LIMITS = {**settings.DANGAN_RATE_LIMITS, "login": (2, 60)}
    codes = [_login(client, "198.51.100.9", f"203.0.113.{n}").status_code for n in range(3)]
    assert codes[-1] == 429 and 429 not in codes[:2]


@pytest.mark.django_db
def test_clients_behind_the_proxy_are_limited_and_audited_each_by_their_own_address(
    client, settings
):
    settings.DANGAN_TRUSTED_PROXIES = [PROXY]
    settings.DANGAN_RATE_LIMITS = {**settings.DANGAN_RATE_LIMITS, "login": (2, 60)}
    assert [_login(client, PROXY, "203.0.113.5").status_code for _ in range(3)][-1] == 429
    assert _login(client, PROXY, "203.0.113.6").status_code != 429  # another client
    failed = AuditEvent.objects.exclude(ip=None).values_list("ip", flat=True)
    assert set(failed) >= {"203.0.113.5", "203.0.113.6"} and PROXY not in set(failed)
