"""The workbench (工作台) at ``/``: where each user's day starts, with what waits for them."""

from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from dangan.accounts.models import Role

from . import workbench


@login_required
def home(request):
    if request.user.role == Role.CITIZEN:
        return redirect("portal:portal-home")
    return render(request, "site/workbench.html", {"trays": workbench.trays_for(request.user)})


FAVICON = Path(__file__).resolve().parent.parent / "static" / "dangan" / "favicon.ico"


@require_safe
def favicon(request):
    """Browsers ask ``/favicon.ico`` of every site, whatever the page says: answer with the icon
    (the pages also name it with ``<link rel="icon">``) instead of a 404 in every log."""
    response = FileResponse(FAVICON.open("rb"), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=604800"
    return response
