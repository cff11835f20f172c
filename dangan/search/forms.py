"""The search box and its filters, as the search page and the command line read them."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dangan.catalogue.models import Openness, Retention

from .selectors import FACET_NAMES, MODE_LABELS


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        max_length=200,
        required=False,
        widget=forms.SearchInput(
            attrs={"autofocus": True, "placeholder": _("Name, ID number, code or words")}
        ),
    )
    mode = forms.ChoiceField(
        label=_("Find"), choices=list(MODE_LABELS.items()), required=False, initial="records"
    )
    fonds = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    category = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    year = forms.IntegerField(required=False, min_value=1, max_value=9999, widget=forms.HiddenInput)
    retention = forms.ChoiceField(
        required=False, choices=[("", "")] + Retention.choices, widget=forms.HiddenInput
    )
    openness = forms.ChoiceField(
        required=False, choices=[("", "")] + Openness.choices, widget=forms.HiddenInput
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def filters(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in FACET_NAMES if data.get(name) not in (None, "")}
