"""Rate limits on log-in and search, counted in Django's cache (local memory by default, Redis
when ``DANGAN_CACHE_URL`` is set, so that several web processes share the count).

A fixed window per key: at most ``limit`` requests in ``window`` seconds, then 429 until the
window ends. The limits (``DANGAN_RATE_LIMITS``) are per client address for log-in and per
user for searches; an ID-number search loop is what a leak looks like.
"""

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils.translation import gettext as _

from .clients import client_address

LOGIN_PATHS = ("/login/", "/login/verify/", "/login/enrol/")
SEARCH_PATHS = ("/catalogue/", "/people/", "/search/", "/api/v1/records/", "/api/v1/persons/")


def hit(key: str, *, limit: int, window: int) -> bool:
    """Count one request for ``key``; False when it is over the limit."""
    cache_key = f"dangan:rate:{key}"
    if cache.add(cache_key, 1, timeout=window):
        return True
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window)
        return True
    return count <= limit


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limits = settings.DANGAN_RATE_LIMITS
        if request.method == "POST" and request.path in LOGIN_PATHS:
            limit, window = limits["login"]
            if not hit(f"login:{client_address(request)}", limit=limit, window=window):
                return self._refuse(request, window)
        elif request.GET.get("q") and request.path.startswith(SEARCH_PATHS):
            limit, window = limits["search"]
            who = request.user.pk if request.user.is_authenticated else client_address(request)
            if not hit(f"search:{who}", limit=limit, window=window):
                return self._refuse(request, window)
        return self.get_response(request)

    def _refuse(self, request, window):
        response = render(
            request,
            "429.html",
            {"message": _("Too many requests. Wait a minute and try again.")},
            status=429,
        )
        response["Retry-After"] = str(window)
        return response
