"""The security administrator's alerts page: open alerts, each acknowledged with a note."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


@login_required
@require_GET
def alert_list(request):
    show_closed = request.GET.get("all") == "1"
    alerts = selectors.alerts_for(request.user, show_closed=show_closed)
    services.check_settings()
    return render(
        request,
        "alerts/list.html",
        {"alerts": alerts[:500], "show_closed": show_closed, "form": AcknowledgeForm()},
    )


@login_required
@require_POST
def acknowledge(request, pk):
    alert = get_object_or_404(selectors.alerts_for(request.user, show_closed=True), pk=pk)
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say in a note what was found or done."))
        return redirect("alerts:list")
    try:
        services.acknowledge(actor=request.user, alert=alert, note=form.cleaned_data["note"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The alert is acknowledged."))
    return redirect("alerts:list")
