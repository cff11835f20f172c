"""Forms of the oversight pages. They only parse; the services decide."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dangan.accounts.models import Role
from dangan.stacks.models import Protection

from .models import ChecklistItem, Keeper, Qualification, SurveyAnswer


class SurveyForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=1900, max_value=2999)
    title = forms.CharField(label=_("Name of the survey"), max_length=200, required=False)
    due_on = forms.DateField(
        label=_("Answers due"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    instructions = forms.CharField(label=_("Instructions"), required=False, widget=forms.Textarea)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year


class AnswerForm(forms.ModelForm):
    protections = forms.MultipleChoiceField(
        label=_("The unit's room protects against"),
        choices=Protection.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = SurveyAnswer
        fields = [
            "kinds",
            "files_at_unit",
            "metres_at_unit",
            "files_moved",
            "year_from",
            "year_to",
            "protections",
            "digitised_percent",
            "remarks",
        ]
        widgets = {
            "kinds": forms.Textarea(attrs={"rows": 3}),
            "remarks": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "files_moved": _("As the unit counts them; Dangan shows beside it what it holds."),
        }


class ChecklistItemForm(forms.ModelForm):
    class Meta:
        model = ChecklistItem
        fields = ["title", "weight", "fact", "position", "active", "guidance"]
        widgets = {"guidance": forms.Textarea(attrs={"rows": 2})}


class InspectionStartForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=None)
    year = forms.IntegerField(label=_("Year"), min_value=1900, max_value=2999)
    inspected_on = forms.DateField(
        label=_("Inspected on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    inspectors = forms.CharField(label=_("Inspectors"), max_length=200, required=False)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["year"].initial = timezone.localdate().year


class FindingForm(forms.Form):
    text = forms.CharField(label=_("Finding"), widget=forms.Textarea(attrs={"rows": 2}))
    due_on = forms.DateField(
        label=_("To be fixed by"), widget=forms.DateInput(attrs={"type": "date"})
    )


class CloseFindingForm(forms.Form):
    resolution = forms.CharField(label=_("How it was fixed"), max_length=2000)


class KeeperForm(forms.ModelForm):
    class Meta:
        model = Keeper
        fields = ["name", "employment", "phone", "since", "user"]
        widgets = {"since": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, unit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = get_user_model().objects.filter(unit=unit, is_active=True)
        self.fields["user"].required = False


class QualificationForm(forms.ModelForm):
    class Meta:
        model = Qualification
        fields = ["kind", "title", "on", "result", "valid_until"]
        widgets = {
            "on": forms.DateInput(attrs={"type": "date"}),
            "valid_until": forms.DateInput(attrs={"type": "date"}),
        }


class CustodyStartForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=None)
    outgoing = forms.ModelChoiceField(label=_("Outgoing keeper"), queryset=None)
    incoming = forms.ModelChoiceField(label=_("Incoming keeper"), queryset=None)
    witness = forms.ModelChoiceField(label=_("Witness"), queryset=None)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        users = (
            get_user_model()
            .objects.filter(is_active=True)
            .exclude(role__in=[Role.CITIZEN, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR])
            .order_by("username")
        )
        self.fields["unit"].queryset = units
        for name in ("outgoing", "incoming", "witness"):
            self.fields[name].queryset = users
            self.fields[name].label_from_instance = lambda u: (
                f"{u.get_full_name() or u.username} ({u.username}, {u.unit or '—'})"
            )


class CustodyItemForm(forms.Form):
    description = forms.CharField(label=_("What is handed over"), max_length=300)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, initial=1)


class SignForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"), required=False, strip=False, widget=forms.PasswordInput
    )
    code = forms.CharField(
        label=_("or a code from your authenticator app"), required=False, max_length=8
    )
    remarks = forms.CharField(
        label=_("Remarks"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
