"""Response headers every page carries: a strict Content-Security-Policy (no inline script or
style, nothing from other sites), and the browser features and referrers we do not need off."""

from django.conf import settings

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "media-src 'self' blob:",
        "object-src 'none'",
        "frame-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
#: Pages of third-party code we serve that set styles inline (Swagger UI): styles only.
RELAXED_STYLE_PREFIXES = ("/api/v1/docs/",)
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:  # a download sets its own "sandbox"
            policy = CSP
            if request.path.startswith(RELAXED_STYLE_PREFIXES):
                policy = policy.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
            response["Content-Security-Policy"] = policy
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY)
        if request.user.is_authenticated if hasattr(request, "user") else False:
            # Pages of personal data are not kept by the browser or a proxy.
            response.setdefault("Cache-Control", "no-store, private")
        return response
