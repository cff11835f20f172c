"""The workbench (工作台) at ``/``: where each user's day starts, with what waits for them."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from dangan.accounts.models import Role

from . import workbench


@login_required
def home(request):
    if request.user.role == Role.CITIZEN:
        return redirect("portal:portal-home")
    return render(request, "site/workbench.html", {"trays": workbench.trays_for(request.user)})
