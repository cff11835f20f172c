"""The search box and its filters, as the search page and the command line read them."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dangan.catalogue.models import Openness, Retention

from . import advanced
from .advanced import CONDITION_ROWS
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
    #: The matches after the best ``CANDIDATES`` (``SearchResults.next_cursor``).
    after = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def filters(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in FACET_NAMES if data.get(name) not in (None, "")}


class AdvancedForm(forms.Form):
    """高级检索: up to ``CONDITION_ROWS`` field conditions (field, value, exact or not), all or
    any of them, and date ranges on the record's date and its filing date. The field names and
    dates are checked by ``advanced.build`` (with the user's rights), not here, so the page and
    the command line refuse the same things with the same words."""

    match = forms.ChoiceField(
        label=_("Conditions"),
        choices=[("all", _("All of them")), ("any", _("Any of them"))],
        required=False,
        initial="all",
        widget=forms.RadioSelect,
    )
    date_from = forms.CharField(label=_("Date from"), max_length=10, required=False)
    date_to = forms.CharField(label=_("to"), max_length=10, required=False)
    filed_from = forms.CharField(label=_("Filed from"), max_length=10, required=False)
    filed_to = forms.CharField(label=_("to"), max_length=10, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *advanced.field_choices(user)]
        for n in range(1, CONDITION_ROWS + 1):
            # A select, but checked by ``build``: a name that is not offered (typed into the
            # address, or of a category taken away since a search was saved) gets its message.
            self.fields[f"f{n}"] = forms.CharField(
                label=_("Field"),
                max_length=40,
                required=False,
                widget=forms.Select(choices=choices),
            )
            self.fields[f"v{n}"] = forms.CharField(label=_("Value"), max_length=200, required=False)
            self.fields[f"x{n}"] = forms.BooleanField(label=_("Exact"), required=False)
        for name in ("date_from", "date_to", "filed_from", "filed_to"):
            self.fields[name].widget.attrs.update(placeholder="2001-05-01", size=10)

    def rows(self):
        return [(self[f"f{n}"], self[f"v{n}"], self[f"x{n}"]) for n in range(1, CONDITION_ROWS + 1)]

    def has_conditions(self) -> bool:
        return self.is_bound and any(
            (self.data.get(name) or "").strip()
            for name in ("date_from", "date_to", "filed_from", "filed_to")
            + tuple(f"v{n}" for n in range(1, CONDITION_ROWS + 1))
        )

    def build(self, user) -> advanced.Advanced:
        """The checked conditions (ValidationError with the message to show)."""
        data = self.cleaned_data
        for n in range(1, CONDITION_ROWS + 1):
            if data[f"v{n}"].strip() and not data[f"f{n}"].strip():
                raise ValidationError(
                    _("Choose the field in which to look for “%(value)s”.")
                    % {"value": data[f"v{n}"].strip()[:40]},
                    code="no_field",
                )
        return advanced.build(
            fields=[
                (data[f"f{n}"], data[f"v{n}"], data[f"x{n}"])
                for n in range(1, CONDITION_ROWS + 1)
                if data[f"v{n}"].strip()
            ],
            date_from=data["date_from"],
            date_to=data["date_to"],
            filed_from=data["filed_from"],
            filed_to=data["filed_to"],
            any_of=data["match"] == "any",
            user=user,
        )


class SaveSearchForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    query = forms.CharField(max_length=4000, widget=forms.HiddenInput)
