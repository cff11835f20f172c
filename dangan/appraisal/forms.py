"""Forms of the appraisal pages: they parse; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dangan.accounts.selectors import users_with

from .models import EXTENSIONS, OPENING_CHOICES, RETENTION_CHOICES, Batch, Hold


class HoldForm(forms.Form):
    archival_code = forms.CharField(label=_("Archival code"), max_length=80)
    kind = forms.ChoiceField(label=_("Kind"), choices=Hold.Kind.choices)
    reason = forms.CharField(label=_("Reason"), max_length=500)
    until = forms.DateField(
        label=_("Held until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: until released."),
    )


def _people(permission):
    return users_with(permission).order_by("username")


class BatchForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Batch.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    members = forms.ModelMultipleChoiceField(label=_("Committee"), queryset=None)
    records = forms.CharField(widget=forms.MultipleHiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = _people("appraisal.use")


class DecisionForm(forms.Form):
    item = forms.IntegerField(widget=forms.HiddenInput)
    choice = forms.ChoiceField(
        label=_("Decision"),
        choices=[(c.value, c.label) for c in RETENTION_CHOICES + OPENING_CHOICES],
    )
    new_retention = forms.ChoiceField(
        label=_("New period"), choices=[("", "—"), *EXTENSIONS], required=False
    )
    reason = forms.CharField(label=_("Reason"), max_length=500)


class ProposeForm(forms.Form):
    approver = forms.ModelChoiceField(label=_("Designated head"), queryset=None)

    def __init__(self, *args, in_steps=False, **kwargs):
        """``in_steps``: the county's approval steps approve the list, nobody is designated."""
        super().__init__(*args, **kwargs)
        self.fields["approver"].queryset = _people("appraisal.approve")
        self.fields["approver"].required = not in_steps


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
