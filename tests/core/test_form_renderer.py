"""The widgets written in Python read exactly as Django's templates write them."""

import datetime

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from dangan.core.form_renderer import WidgetRenderer
from dangan.search.forms import AdvancedForm

TRICKY = "a<b>&\"c'd 档案"


class Everything(forms.Form):
    text = forms.CharField(initial=TRICKY, widget=forms.TextInput(attrs={"placeholder": TRICKY}))
    empty = forms.CharField(required=False, widget=forms.TextInput(attrs={"autofocus": True}))
    off = forms.CharField(required=False, widget=forms.TextInput(attrs={"readonly": False}))
    number = forms.IntegerField(initial=12345, min_value=0)
    decimal = forms.DecimalField(initial="3.50")
    email = forms.EmailField(required=False)
    password = forms.CharField(widget=forms.PasswordInput)
    hidden = forms.CharField(initial=mark_safe("<i>safe</i>"), widget=forms.HiddenInput)
    date = forms.DateField(initial=datetime.date(2001, 5, 1))
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    search = forms.CharField(widget=forms.TextInput(attrs={"type": "search", "size": 16}))
    tick = forms.BooleanField(initial=True, required=False)
    untick = forms.BooleanField(required=False)
    upload = forms.FileField(required=False)
    note = forms.CharField(initial=TRICKY, widget=forms.Textarea(attrs={"rows": 3}))
    blank_note = forms.CharField(required=False, widget=forms.Textarea)
    choice = forms.ChoiceField(
        initial="2",
        choices=[("", "—"), ("1", TRICKY), ("2", gettext_lazy("Permanent")), (3, 2024)],
    )
    grouped = forms.ChoiceField(
        choices=[("", "—"), ("城镇", [("a", "甲"), ("b", "乙")]), ("Village", [("c", "丙")])],
    )
    several = forms.MultipleChoiceField(
        initial=["a", "c"], choices=[("a", "A"), ("b", "B"), ("c", "C")]
    )
    yes_no = forms.NullBooleanField()
    model_like = forms.TypedChoiceField(coerce=int, choices=[(1, "one"), (2, "two")], initial=2)
    radio = forms.ChoiceField(choices=[("x", "X"), ("y", "Y")], widget=forms.RadioSelect)


def _drawn(form_class, renderer, **kwargs):
    form = form_class(renderer=renderer, **kwargs)
    return {name: str(form[name]) for name in form.fields}


@pytest.mark.parametrize("data", [None, {"text": "<x>", "choice": "1", "several": ["b"]}])
def test_every_plain_widget_reads_as_djangos_templates_write_it(data):
    kwargs = {"data": data} if data else {}
    expected = _drawn(Everything, DjangoTemplates(), **kwargs)
    drawn = _drawn(Everything, WidgetRenderer(), **kwargs)
    for name in expected:
        assert drawn[name] == expected[name], name
    assert 'placeholder="a&lt;b&gt;&amp;&quot;c&#x27;d 档案"' in drawn["text"]
    if data is None:
        assert "<i>safe</i>" in drawn["hidden"]  # a safe value stays as it was given


@pytest.mark.django_db
def test_the_advanced_search_form_reads_the_same(make_user):
    user = make_user()
    data = {"f1": "responsible", "v1": "县人社局", "x1": "on", "match": "any", "date_from": "2001"}
    expected = AdvancedForm(data, user=user, renderer=DjangoTemplates())
    drawn = AdvancedForm(data, user=user, renderer=WidgetRenderer())
    assert str(drawn) == str(expected)
    assert drawn["f1"].as_widget().count("<option") > 3


def test_the_project_draws_its_forms_with_the_python_widgets():
    from django.forms.renderers import get_default_renderer

    assert isinstance(get_default_renderer(), WidgetRenderer)
