from django import forms
from django.utils.translation import gettext_lazy as _

from dangan.catalogue.models import Category


class LoginForm(forms.Form):
    username = forms.CharField(label=_("User name or mobile phone"), max_length=150)
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)


class SignUpForm(forms.Form):
    username = forms.RegexField(
        label=_("User name"),
        max_length=40,
        regex=r"^[\w.@+-]{3,40}$",
        help_text=_("3 to 40 letters, digits or . @ + - _"),
    )
    name = forms.CharField(label=_("Your name"), max_length=50)
    phone = forms.CharField(label=_("Mobile phone (optional)"), max_length=20, required=False)
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("Password again"), strip=False, widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search the open catalogue"), max_length=100, required=False)
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.order_by("position", "code"),
        required=False,
        empty_label=_("All categories"),
    )
    page = forms.IntegerField(min_value=1, max_value=1000, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        # The options from one plain query: drawn from the queryset itself, every page would
        # open a server-side cursor on PostgreSQL for a dozen categories.
        field.choices = [("", field.empty_label)] + [(c.pk, str(c)) for c in field.queryset]


class CopyRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("What do you need the copy for?"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CounterBindForm(forms.Form):
    account = forms.CharField(label=_("Citizen's user name or mobile phone"), max_length=150)
    id_number = forms.CharField(label=_("ID number on the card"), max_length=24)
    card_checked = forms.BooleanField(
        label=_("I have checked the ID card against the person in front of me"), required=True
    )


class CounterUnbindForm(forms.Form):
    account = forms.CharField(label=_("Citizen's user name or mobile phone"), max_length=150)
    reason = forms.CharField(label=_("Why is the binding undone?"), max_length=500)
