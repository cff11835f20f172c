from dangan.security.clients import UNKNOWN, client_address

from .services import current_ip


class AuditContextMiddleware:
    """Makes the client address available to the audit trail for the length of a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        address = client_address(request)
        token = current_ip.set(None if address == UNKNOWN else address)
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)
