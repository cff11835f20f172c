"""Forms of the catalogue pages: the list's filters and a record's form, built from its category.

The forms parse what a clerk typed; the checks that matter (the category's schema, DA/T 18,
the user's rights) are the services' (``services.create_record`` / ``update_record``), whose
``ValidationError`` the view hands back to ``RecordForm.add_service_errors``.
"""

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dangan.accounts.models import Secrecy
from dangan.people.services import check_person

from .models import FieldDefinition, Openness, PublicAttribute, Record, Retention, VolumeNote
from .selectors import SORTS

Kind = FieldDefinition.Kind
METADATA_PREFIX = "m_"
#: Core fields the record form offers, in DA/T 18 order.
FORM_CORE_FIELDS = [
    "title",
    "year",
    "date",
    "responsible",
    "doc_number",
    "retention",
    "org_code",
    "secrecy",
    "secrecy_term",
    "openness",
    "public_attribute",
    "page_count",
    "legacy_number",
    "box_number",
    "remarks",
]
_YES_NO = [("", "—"), ("true", _("Yes")), ("false", _("No"))]


def _blank(choices):
    return [("", "—"), *choices]


class RecordFilterForm(forms.Form):
    """The list's filters; also the selection an export writes."""

    fonds = forms.ModelChoiceField(queryset=None, required=False, label=_("Fonds"))
    category = forms.ModelChoiceField(queryset=None, required=False, label=_("Category"))
    year = forms.IntegerField(required=False, min_value=1900, max_value=2100, label=_("Year"))
    retention = forms.ChoiceField(
        choices=_blank(Retention.choices), required=False, label=_("Retention")
    )
    openness = forms.ChoiceField(
        choices=_blank(Openness.choices), required=False, label=_("Openness")
    )
    state = forms.ChoiceField(
        choices=_blank(Record.State.choices), required=False, label=_("State")
    )
    q = forms.CharField(required=False, max_length=100, label=_("Search"))
    sort = forms.ChoiceField(
        required=False,
        label=_("Sort by"),
        choices=[
            ("new", _("Newest first")),
            ("code", _("Archival code")),
            ("-code", _("Archival code, descending")),
            ("year", _("Year")),
            ("-year", _("Year, descending")),
            ("title", _("Title")),
        ],
    )

    def __init__(self, *args, fonds_choices, category_choices, **kwargs):
        super().__init__(*args, **kwargs)
        #: The fonds and categories offered, read once (the list's side bar shows them too).
        self.choice_rows = {"fonds": list(fonds_choices), "category": list(category_choices)}
        for name, queryset in (("fonds", fonds_choices), ("category", category_choices)):
            field = self.fields[name]
            field.queryset = queryset
            # Options from those rows, not from a fresh server-side cursor at each drawing.
            field.choices = [("", field.empty_label)] + [
                (item.pk, field.label_from_instance(item)) for item in self.choice_rows[name]
            ]
        assert {value for value, _label in self.fields["sort"].choices} == set(SORTS)

    def selection(self) -> dict:
        """The keyword arguments of ``selectors.browse_records`` for the valid filters."""
        data = (
            self.cleaned_data
            if self.is_valid()
            else {
                name: value
                for name, value in getattr(self, "cleaned_data", {}).items()
                if name not in self.errors
            }
        )
        return {
            "fonds": data["fonds"].pk if data.get("fonds") else None,
            "category": data["category"].pk if data.get("category") else None,
            "year": data.get("year"),
            "retention": data.get("retention") or None,
            "openness": data.get("openness") or None,
            "state": data.get("state") or None,
            "q": (data.get("q") or "").strip() or None,
            "sort": data.get("sort") or "new",
        }


def metadata_form_field(field: FieldDefinition) -> forms.Field:
    """A form field for one schema field. Values stay text where the schema's own cleaning
    (``schema.clean_value``) is more forgiving than Django's (partial dates, 是/否, 1,200.00)."""
    common = {"label": field.label, "required": field.required}
    if field.kind == Kind.CHOICE and field.choices:
        return forms.ChoiceField(choices=_blank([(c, c) for c in field.choices]), **common)
    if field.kind == Kind.BOOLEAN:
        return forms.ChoiceField(choices=_YES_NO, **common)
    if field.kind == Kind.INTEGER:
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "numeric"}), **common)
    if field.kind == Kind.DATE:
        return forms.CharField(
            max_length=20, help_text=_("e.g. 2001-05-01, 2001.5 or 2001"), **common
        )
    if field.kind == Kind.ID_NUMBER:
        return forms.CharField(max_length=25, **common)
    return forms.CharField(max_length=field.max_length or None, **common)


class RecordForm(forms.Form):
    """A record's core fields, its category's metadata fields and the persons it concerns."""

    title = forms.CharField(label=_("Title"), max_length=500)
    year = forms.IntegerField(
        label=_("Year"),
        min_value=1900,
        max_value=2100,
        required=False,
        help_text=_("Taken from the date when left empty."),
    )
    date = forms.DateField(
        label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    responsible = forms.CharField(label=_("Responsible party"), max_length=200, required=False)
    doc_number = forms.CharField(label=_("Document number"), max_length=100, required=False)
    retention = forms.ChoiceField(label=_("Retention"), choices=Retention.choices)
    org_code = forms.CharField(label=_("Organisation/issue code"), max_length=16, required=False)
    secrecy = forms.TypedChoiceField(
        label=_("Secrecy"), choices=Secrecy.choices, coerce=int, initial=Secrecy.INTERNAL
    )
    secrecy_term = forms.CharField(label=_("Secrecy term"), max_length=20, required=False)
    openness = forms.ChoiceField(
        label=_("Openness"), choices=Openness.choices, initial=Openness.UNREVIEWED
    )
    public_attribute = forms.ChoiceField(
        label=_("Public attribute"),
        choices=PublicAttribute.choices,
        initial=PublicAttribute.NOT_PUBLIC,
    )
    page_count = forms.IntegerField(label=_("Pages"), min_value=0, required=False)
    legacy_number = forms.CharField(label=_("Legacy archive number"), max_length=80, required=False)
    box_number = forms.CharField(label=_("Box number"), max_length=40, required=False)
    remarks = forms.CharField(
        label=_("Remarks"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    persons = forms.CharField(
        label=_("Persons"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One person a line: national ID number, then name."),
    )
    file = forms.BooleanField(
        label=_("File now (give the archival code)"), required=False, initial=True
    )

    def __init__(self, *args, category, record=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.category = category
        self.record = record
        self.schema = list(category.fields.all())
        for field in self.schema:
            self.fields[METADATA_PREFIX + field.key] = metadata_form_field(field)
        if record is None:
            self.fields["retention"].initial = category.default_retention
        else:
            del self.fields["file"]
            self.fields["persons"].help_text = _(
                "Leave empty to keep the persons as they are. Otherwise one person a line: "
                "national ID number, then name; the lines replace the record's persons."
            )
            if record.state == Record.State.FILED:
                for name in ("year", "retention", "org_code"):
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _("Part of the archival code; fixed once filed.")

    @classmethod
    def initial_for(cls, record: Record) -> dict:
        initial = {name: getattr(record, name) for name in FORM_CORE_FIELDS}
        for key, value in record.metadata.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            initial[METADATA_PREFIX + key] = value
        return initial

    def metadata_fields(self):
        return [self[METADATA_PREFIX + f.key] for f in self.schema]

    def core_fields(self):
        return [self[name] for name in FORM_CORE_FIELDS]

    def clean_persons(self):
        """Checked (IdNumber, name) pairs, looked up or created on saving; None on an edit that
        leaves the persons as they are."""
        if self.record is not None and not (self.cleaned_data.get("persons") or "").strip():
            return None
        entries, errors = [], []
        for n, line in enumerate((self.cleaned_data.get("persons") or "").splitlines(), start=1):
            line = unicodedata.normalize("NFKC", line).strip()
            if not line:
                continue
            match = re.match(r"^(\d{17}[\dXx]|\d{15})\s*(\S.*)$", line)
            if not match:
                errors.append(_("Line %(n)d: write the ID number, then the name.") % {"n": n})
                continue
            try:
                entries.append(check_person(id_number=match[1], name=match[2]))
            except ValidationError as exc:
                line_no = _("Line %(n)d:") % {"n": n}
                errors.extend(f"{line_no} {m}" for m in exc.messages)
        if errors:
            raise ValidationError(errors)
        return entries

    def values(self) -> dict:
        """The core values for the service; on an edit, only fields the form may change."""
        data = self.cleaned_data
        values = {
            name: data[name]
            for name in FORM_CORE_FIELDS
            if name in data and not self.fields[name].disabled
        }
        for name in (
            "responsible",
            "doc_number",
            "org_code",
            "secrecy_term",
            "legacy_number",
            "box_number",
            "remarks",
        ):
            if name in values and values[name] is None:
                values[name] = ""
        if self.record is None and values.get("year") is None:
            values.pop("year", None)
        return values

    def metadata(self) -> dict:
        """The metadata values as typed; the category's schema cleans them in the service."""
        return {f.key: self.cleaned_data.get(METADATA_PREFIX + f.key) for f in self.schema}

    def add_service_errors(self, error: ValidationError) -> None:
        """Show a service's ``ValidationError`` on the fields it names (metadata keys included)."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for key, errors in error.error_dict.items():
            name = key if key in self.fields else METADATA_PREFIX + key
            if name in self.fields and not self.fields[name].disabled:
                self.add_error(name, errors)
            else:
                label = self.fields[name].label if name in self.fields else key
                for message in ValidationError(errors).messages:
                    self.add_error(None, f"{label}: {message}")


class VolumeNoteForm(forms.ModelForm):
    """备考表 of a volume."""

    class Meta:
        model = VolumeNote
        fields = ["notes", "compiled_by", "compiled_on", "checked_by", "checked_on"]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 4}),
            "compiled_on": forms.DateInput(attrs={"type": "date"}),
            "checked_on": forms.DateInput(attrs={"type": "date"}),
        }
