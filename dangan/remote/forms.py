from django import forms
from django.utils.translation import gettext_lazy as _

from dangan.access.models import Purpose


class AskForm(forms.Form):
    holder = forms.ChoiceField(label=_("Archive that keeps the files"))
    id_number = forms.CharField(label=_("ID number"), max_length=20)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    reason = forms.CharField(label=_("What it is needed for"), max_length=500, required=False)

    def __init__(self, *args, holders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].choices = [(c, f"{n} ({c})") for c, n in holders]


class CitizenAskForm(AskForm):
    """The portal's form: the ID number is the one the citizen's account is bound to."""

    id_number = None


class PeerForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=200)
    base_url = forms.URLField(label=_("Address"), max_length=300, assume_scheme="https")
    key = forms.CharField(
        label=_("Public key (PEM)"), widget=forms.Textarea(attrs={"rows": 5}), max_length=4000
    )


class AnswerForm(forms.Form):
    reason = forms.CharField(label=_("Reasons"), max_length=500, required=False)
