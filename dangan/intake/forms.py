"""Forms of the register import pages: the upload, and one choice of field per column."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dangan.catalogue.models import Category, Fonds

from . import mapping as mappings

COLUMN_PREFIX = "col_"


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Register (.xlsx or .csv)"))
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.all(), to_field_name="code"
    )
    fonds = forms.ModelChoiceField(
        label=_("Fonds"), queryset=Fonds.objects.all(), to_field_name="code"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fonds"].initial = (
            Fonds.objects.order_by("code").values_list("code", flat=True).first()
        )
        self.fields["file"].widget.attrs["accept"] = ".xlsx,.csv"


class MappingForm(forms.Form):
    """One select per column of the register: the field it goes to, or nothing."""

    def __init__(self, *args, headers, category, initial_mapping, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        choices = [("", _("— not imported —")), *mappings.targets(category).items()]
        for index, header in enumerate(headers):
            self.fields[f"{COLUMN_PREFIX}{index}"] = forms.ChoiceField(
                label=header,
                choices=choices,
                required=False,
                initial=initial_mapping.get(header) or "",
            )

    def columns(self):
        """(header, bound field) pairs, for the template."""
        return [(h, self[f"{COLUMN_PREFIX}{i}"]) for i, h in enumerate(self.headers)]

    def mapping(self) -> dict:
        return {
            h: self.cleaned_data.get(f"{COLUMN_PREFIX}{i}") or None
            for i, h in enumerate(self.headers)
        }


# --- Hand-over lists -----------------------------------------------------------------------------
class HandoverListForm(forms.Form):
    title = forms.CharField(label=_("Title of the list"), max_length=200)
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.filter(children__isnull=True).order_by("code"),
        to_field_name="code",
    )
    fonds = forms.ModelChoiceField(
        label=_("Fonds"), queryset=Fonds.objects.all(), to_field_name="code"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fonds"].initial = (
            Fonds.objects.order_by("code").values_list("code", flat=True).first()
        )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


class HandoverItemForm(forms.Form):
    """One item: the record fields a sender knows, the person, the category's own fields, and
    its scans in page order (chosen in that order)."""

    title = forms.CharField(
        label=_("Title"),
        max_length=500,
        required=False,
        help_text=_("Left empty for a person file, the category's title is used."),
    )
    date = forms.CharField(label=_("Date"), max_length=20)
    responsible = forms.CharField(label=_("Responsible party"), max_length=200)
    legacy_number = forms.CharField(label=_("Legacy archive number"), max_length=80, required=False)
    doc_number = forms.CharField(label=_("Document number"), max_length=100, required=False)
    person_name = forms.CharField(label=_("Name of the person"), max_length=100, required=False)
    person_id = forms.CharField(label=_("ID number of the person"), max_length=30, required=False)
    remarks = forms.CharField(
        label=_("Remarks"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    files = MultipleFileField(label=_("Scans (in page order)"), required=False)

    VALUE_FIELDS = ["title", "date", "responsible", "legacy_number", "doc_number", "remarks"]

    def __init__(self, *args, category, item=None, **kwargs):
        if item is not None and not kwargs.get("initial"):
            person = (item.persons or [{}])[0]
            kwargs["initial"] = {
                **item.values,
                "person_name": person.get("name", ""),
                "person_id": person.get("id_number", ""),
                **{f"meta_{k}": v for k, v in item.metadata.items()},
            }
        super().__init__(*args, **kwargs)
        self.schema = list(category.fields.all())
        for definition in self.schema:
            self.fields[f"meta_{definition.key}"] = forms.CharField(
                label=definition.label, required=False
            )
        if item is None:
            self.fields["files"].required = True

    def values(self) -> dict:
        return {k: self.cleaned_data[k] for k in self.VALUE_FIELDS if self.cleaned_data.get(k)}

    def metadata(self) -> dict:
        return {
            d.key: self.cleaned_data[f"meta_{d.key}"]
            for d in self.schema
            if self.cleaned_data.get(f"meta_{d.key}")
        }

    def persons(self) -> list:
        name, number = self.cleaned_data.get("person_name"), self.cleaned_data.get("person_id")
        return [{"name": name, "id_number": number}] if name or number else []

    def scans(self) -> list:
        return [(f.name, f) for f in self.cleaned_data.get("files") or []]


class PackageForm(forms.Form):
    package = forms.FileField(label=_("Package (.tar)"))
