"""The address of the client a request comes from: the one function every rate limit, the audit
trail and the metrics allow-list ask.

Behind a reverse proxy (nginx) ``REMOTE_ADDR`` is the proxy and the client stands in
``X-Forwarded-For``. Anyone can send that header, so it is believed only when the request comes
from a proxy the configuration names (``DANGAN_TRUSTED_PROXIES``: addresses or networks, e.g.
``127.0.0.1,10.0.0.0/8``). The header is then read from the right, as nginx's ``realip`` module
with ``real_ip_recursive on`` does: each proxy appends the address it got the request from, so
the rightmost address that is not a trusted proxy is the client; what lies left of it was
written by the client and is not believed. With no trusted proxies (the default), the header is
ignored and the address is ``REMOTE_ADDR``.
"""

import functools
import ipaddress

from django.conf import settings

UNKNOWN = "unknown"


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _address(text: str):
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 203.0.113.7:51234
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_trusted_proxy(address) -> bool:
    networks = _networks(tuple(settings.DANGAN_TRUSTED_PROXIES))
    return address is not None and any(address in network for network in networks)


def client_address(request) -> str:
    """The client's address (text), or ``"unknown"`` when there is none to tell."""
    remote = _address(request.META.get("REMOTE_ADDR") or "")
    if remote is None:
        return UNKNOWN
    if not is_trusted_proxy(remote):
        return str(remote)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for part in reversed(forwarded.split(",")):
        address = _address(part)
        if address is None:  # a hop that says nothing usable: stop believing what is left of it
            break
        if not is_trusted_proxy(address):
            return str(address)
        remote = address
    return str(remote)
