"""Session expiry: a staff session ends after ``DANGAN_IDLE_MINUTES`` without a request, and
in any case ``SESSION_COOKIE_AGE`` seconds after the log-in."""

import time

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils.translation import gettext as _

from .roles import Role

LAST_SEEN = "dangan_last_seen"
LOGIN_AT = "dangan_login_at"
#: The session is written at most this often just to move the idle clock on.
TOUCH_SECONDS = 60


class IdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            session = request.session
            last = session.get(LAST_SEEN, now)
            started = session.setdefault(LOGIN_AT, now)
            idle = settings.DANGAN_IDLE_MINUTES * 60
            if now - last > idle or now - started > settings.SESSION_COOKIE_AGE:
                citizen = request.user.role == Role.CITIZEN
                auth.logout(request)
                messages.info(request, _("Your session has ended. Please log in again."))
                # A citizen logs in again on the portal, not on the staff log-in page.
                login = reverse("portal:portal-login") if citizen else None
                return redirect_to_login(request.get_full_path(), login)
            if now - last > TOUCH_SECONDS or LAST_SEEN not in session:
                session[LAST_SEEN] = now
        return self.get_response(request)
