"""Forms of the stacks pages; they parse input, the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Alert, Box, Room


class RoomForm(forms.ModelForm):
    columns = forms.IntegerField(label=_("Columns"), min_value=0, max_value=200, initial=0)
    sections = forms.IntegerField(label=_("Sections per column"), min_value=0, max_value=50)
    layers = forms.IntegerField(label=_("Layers per section"), min_value=0, max_value=20)

    class Meta:
        model = Room
        fields = [
            "code",
            "name",
            "keeps_media",
            "temperature_min",
            "temperature_max",
            "humidity_min",
            "humidity_max",
            "temperature_swing",
            "humidity_swing",
        ]


class BoxForm(forms.Form):
    fonds = forms.ModelChoiceField(queryset=None, label=_("Fonds"))
    category = forms.ModelChoiceField(queryset=None, required=False, label=_("Category"))
    year = forms.IntegerField(required=False, min_value=1900, max_value=2100, label=_("Year"))
    retention = forms.CharField(required=False, max_length=4, label=_("Retention"))
    spine = forms.TypedChoiceField(
        choices=Box.Spine.choices, coerce=int, initial=30, label=_("Spine")
    )
    code = forms.CharField(
        required=False,
        max_length=80,
        label=_("Box code"),
        help_text=_("Left empty: the next number of the box's class."),
    )
    location = forms.CharField(
        required=False, max_length=40, label=_("Location code"), help_text="K1-01-01-01"
    )

    def __init__(self, *args, fonds, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fonds"].queryset = fonds
        self.fields["category"].queryset = categories


class BoxNoteForm(forms.ModelForm):
    class Meta:
        model = Box
        fields = ["spine", "note", "arranged_by", "arranged_on", "checked_by", "checked_on"]
        widgets = {
            "arranged_on": forms.DateInput(attrs={"type": "date"}),
            "checked_on": forms.DateInput(attrs={"type": "date"}),
            "note": forms.Textarea(attrs={"rows": 4}),
        }


class PlaceForm(forms.Form):
    codes = forms.CharField(
        label=_("Archival codes"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One archival code (or legacy number) a line; a scanner may type them."),
    )

    def code_list(self):
        return self.cleaned_data["codes"].split()


class MoveForm(forms.Form):
    location = forms.CharField(
        required=False,
        max_length=40,
        label=_("New location code"),
        help_text=_("Empty: take the box off the shelves."),
    )
    reason = forms.CharField(required=False, max_length=200, label=_("Reason"))


class ScanForm(forms.Form):
    code = forms.CharField(max_length=80, label=_("Box code"))


class ReadingForm(forms.Form):
    at = forms.DateTimeField(
        label=_("Time"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    temperature = forms.DecimalField(
        required=False, max_digits=4, decimal_places=1, label=_("Temperature (°C)")
    )
    humidity = forms.DecimalField(
        required=False, max_digits=4, decimal_places=1, label=_("Relative humidity (%)")
    )


class ReadingImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))


class AlertCloseForm(forms.ModelForm):
    class Meta:
        model = Alert
        fields = ["handling"]
        widgets = {"handling": forms.Textarea(attrs={"rows": 2})}


class InspectionForm(forms.Form):
    remarks = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label=_("Remarks")
    )

    def __init__(self, *args, room, **kwargs):
        super().__init__(*args, **kwargs)
        self.room = room
        for p in room.protections:
            self.fields[f"ok_{p.value}"] = forms.BooleanField(required=False, label=p.label)
            self.fields[f"note_{p.value}"] = forms.CharField(
                required=False, max_length=500, label=_("Note")
            )

    def rows(self):
        return [(p, self[f"ok_{p.value}"], self[f"note_{p.value}"]) for p in self.room.protections]

    def results(self):
        return {
            p.value: {
                "ok": self.cleaned_data[f"ok_{p.value}"],
                "note": self.cleaned_data[f"note_{p.value}"],
            }
            for p in self.room.protections
        }
