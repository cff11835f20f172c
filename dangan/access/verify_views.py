"""The public pages that check a certified copy (档案证明), mounted at ``/verify/``.

Anyone may use them, logged in or not. They are built so that nobody can list certificates:
the code in the QR code carries 192 random bits; an unknown code and a malformed one get the
same 404; every request counts against a per-address limit (``DANGAN_VERIFY_RATE``), uploads
included. An uploaded PDF is hashed as it streams in and never kept: it is the one issued when
its SHA-256 equals the digest kept at issue.
"""

import functools
import hashlib

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from dangan.security.clients import client_address
from dangan.security.ratelimit import hit

from . import certificates, selectors
from .forms import VerifyUploadForm
from .models import Certificate


def rate_limited(view):
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        limit, window = settings.DANGAN_VERIFY_RATE
        if not hit(f"verify:{client_address(request)}", limit=limit, window=window):
            response = render(
                request,
                "429.html",
                {"message": _("Too many requests. Wait a minute and try again.")},
                status=429,
            )
            response["Retry-After"] = str(window)
            return response
        response = view(request, *args, **kwargs)
        # The code is a secret: keep it out of other sites' logs and out of caches.
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    # No CSRF token: the check changes nothing and needs no session, so a script or another
    # archive's system may post a copy to it as a browser does.
    return csrf_exempt(never_cache(wrapped))


def _uploaded_digest(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    return digest.hexdigest()


@rate_limited
def index(request):
    """Type the code, or upload the PDF alone: a copy is found by its exact bytes."""
    form = VerifyUploadForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            cert = selectors.certificate_by_digest(_uploaded_digest(form.cleaned_data["file"]))
        except Certificate.DoesNotExist:
            result = {"genuine": False}
        else:
            result = {"genuine": True, "cert": cert}
    return render(request, "access/verify_index.html", {"form": form, "result": result})


@rate_limited
def certificate(request, code):
    if not certificates.looks_like_code(code):
        raise Http404
    try:
        cert = selectors.certificate_by_code(code)
    except Certificate.DoesNotExist:
        raise Http404 from None
    form = VerifyUploadForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = {"genuine": _uploaded_digest(form.cleaned_data["file"]) == cert.sha256}
    return render(
        request,
        "access/verify_certificate.html",
        {
            "cert": cert,
            "form": form,
            "result": result,
            "signature_valid": certificates.signature_valid(cert),
        },
    )
