"""HTTP Basic for other systems calling the API, under the same lock-out as the log-in page.

A person logs in on the page with two factors and uses the API through that session. Basic
authentication has one factor, so, when two factors are required, it is open only to the
accounts named in ``DANGAN_API_BASIC_USERS`` (the service accounts of other systems).

DRF's Basic calls ``django.contrib.auth.authenticate``: django-axes refuses a locked account or
address there, and a failure is counted by ``lockout`` through Django's signal, as on the page.
"""

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular import authentication as drf_spectacular_basic
from rest_framework import authentication, exceptions

from . import lockout, services


class BasicAuthentication(authentication.BasicAuthentication):
    def authenticate_credentials(self, userid, password, request=None):
        try:
            user, auth = super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            address = lockout.client_address(request) if request is not None else None
            if lockout.active_lock(username=userid, address=address) is not None:
                raise exceptions.AuthenticationFailed(
                    _("This account is locked after too many failed log-ins.")
                ) from None
            raise
        if services.two_factor_required(user) and userid not in settings.DANGAN_API_BASIC_USERS:
            raise exceptions.AuthenticationFailed(
                _("This account logs in with two factors: use the log-in page, not Basic.")
            )
        return user, auth


class BasicScheme(drf_spectacular_basic.BasicScheme):
    """The OpenAPI description of the above: plain HTTP Basic."""

    target_class = "dangan.accounts.authentication.BasicAuthentication"
