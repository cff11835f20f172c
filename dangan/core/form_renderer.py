"""Form widgets written in Python instead of through Django's widget templates.

Django draws each input through ``input.html``, which includes ``attrs.html``, and each option of
a select through an include of ``select_option.html``: an include costs about as much as a whole
database look-up. The advanced search form draws some 160 includes a page, the record list's
filters a dozen more; under 200 people at once that was a third of the search page's CPU.

``WidgetRenderer`` writes the plain widgets (the inputs, ``select`` and ``textarea``) as Django's
own templates would, byte for byte (``tests/test_form_renderer.py`` compares the two), and hands
everything else (a widget with a template of its own, radio buttons, forms and fields) to the
templates as before. Set as ``FORM_RENDERER`` in settings.
"""

from django.forms.renderers import DjangoTemplates
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe

WIDGETS = "django/forms/widgets/"
#: The widget templates that are only ``{% include "django/forms/widgets/input.html" %}``.
INPUTS = frozenset(
    WIDGETS + name + ".html"
    for name in (
        "input checkbox color date datetime email file hidden number password search tel text "
        "time url"
    ).split()
)
_CONTEXT = Context()  # autoescape on, localisation as the templates do it by default


def _formatted(value) -> str:
    """``{{ value|stringformat:'s' }}``: a safe string stays as it is, the rest is escaped."""
    return conditional_escape(value if isinstance(value, SafeData) else str(value))


def _attrs(attrs: dict) -> str:
    """``attrs.html``: ``True`` writes the bare name, ``False`` leaves the attribute out."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        name = render_value_in_context(name, _CONTEXT)
        out.append(f" {name}" if value is True else f' {name}="{_formatted(value)}"')
    return "".join(out)


def _input(widget: dict) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{_formatted(value)}"'
    kind = render_value_in_context(widget["type"], _CONTEXT)
    name = render_value_in_context(widget["name"], _CONTEXT)
    return f'<input type="{kind}" name="{name}"{shown}{_attrs(widget["attrs"])}>'


def _option(option: dict) -> str:
    label = render_value_in_context(option["label"], _CONTEXT)
    value = _formatted(option["value"])
    return f'<option value="{value}"{_attrs(option["attrs"])}>{label}</option>'


def _select(widget: dict) -> str | None:
    parts = [f'<select name="{render_value_in_context(widget["name"], _CONTEXT)}"']
    parts.append(_attrs(widget["attrs"]) + ">")
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{render_value_in_context(group_name, _CONTEXT)}">')
        for option in group_choices:
            if option["template_name"] != WIDGETS + "select_option.html":
                return None  # an option drawn by a template of its own
            parts.append("\n  " + _option(option) + "\n")  # the included file's last line
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _textarea(widget: dict) -> str:
    value = widget["value"]
    text = render_value_in_context(value, _CONTEXT) if value else ""
    name = render_value_in_context(widget["name"], _CONTEXT)
    return f'<textarea name="{name}"{_attrs(widget["attrs"])}>\n{text}</textarea>'


class WidgetRenderer(DjangoTemplates):
    """Django's default form renderer, with the plain widgets written in Python."""

    def render(self, template_name, context, request=None):
        widget = context.get("widget") if isinstance(context, dict) else None
        html = None
        if widget is not None:
            if template_name in INPUTS:
                html = _input(widget)
            elif template_name == WIDGETS + "select.html":
                html = _select(widget)
            elif template_name == WIDGETS + "textarea.html":
                html = _textarea(widget)
        if html is None:
            return super().render(template_name, context, request=request)
        return mark_safe(html.strip())
