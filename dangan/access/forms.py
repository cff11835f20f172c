"""Forms of the access pages; they parse input, the services decide."""

import re

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dangan.catalogue.selectors import visible_records

from .models import Purpose

_SPLIT = re.compile(r"[\s,，;；]+")


class RecordCodesField(forms.CharField):
    """Archival codes (or legacy numbers) typed or scanned one per line, resolved later against
    what the clerk may see."""

    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value):
        return [part for part in _SPLIT.split(super().to_python(value) or "") if part]


def resolve_codes(user, codes: list[str]):
    """The visible records with these archival codes or legacy numbers, and the codes not found."""
    found = list(
        visible_records(user).filter(archival_code__in=codes)
        | visible_records(user).filter(legacy_number__in=codes)
    )
    known = {r.archival_code for r in found} | {r.legacy_number for r in found}
    return found, [c for c in codes if c not in known]


class VisitForm(forms.Form):
    visitor_name = forms.CharField(label=_("Visitor's name"), max_length=100)
    id_number = forms.CharField(label=_("ID number"), max_length=24)
    visitor_unit = forms.CharField(label=_("Visitor's unit"), max_length=200, required=False)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    records = RecordCodesField(
        label=_("Records consulted (archival codes)"), required=False, max_length=4000
    )
    remarks = forms.CharField(label=_("Remarks"), max_length=500, required=False)


class ConsultedForm(forms.Form):
    records = RecordCodesField(label=_("Records consulted (archival codes)"), max_length=4000)


class LoanForm(forms.Form):
    record = forms.CharField(label=_("Archival code"), max_length=80)
    borrower_name = forms.CharField(label=_("Borrower"), max_length=100)
    borrower_unit = forms.CharField(label=_("Borrower's unit"), max_length=200, required=False)
    borrower_email = forms.EmailField(label=_("Borrower's e-mail"), required=False)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    due_on = forms.DateField(
        label=_("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["due_on"].help_text = _("Empty: %(days)d days from today.") % {
            "days": settings.DANGAN_LOAN_DAYS
        }


class RequestForm(forms.Form):
    """A request by staff or a unit for a copy of one record."""

    record = forms.CharField(label=_("Archival code"), max_length=80)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    reason = forms.CharField(label=_("What it is needed for"), max_length=500, required=False)


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reasons"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RegisterRangeForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    format = forms.ChoiceField(
        label=_("Format"), choices=[("html", _("Page")), ("pdf", "PDF"), ("xlsx", "Excel")]
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end"):
            if data["end"] < data["start"]:
                raise forms.ValidationError(_("The end is before the start."))
            if (data["end"] - data["start"]).days > 366:
                raise forms.ValidationError(_("At most one year at a time."))
        return data

    @classmethod
    def initial_range(cls):
        today = timezone.localdate()
        return {"start": today.replace(day=1), "end": today, "format": "html"}


class VerifyUploadForm(forms.Form):
    file = forms.FileField(label=_("The PDF you were given"))
