"""A category's metadata schema at work: checking and cleaning the values of its fields."""

import decimal
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from dangan.people import id_numbers

from .dates import parse_date
from .models import FieldDefinition

Kind = FieldDefinition.Kind
_TRUE = {"1", "true", "yes", "y", "是", "有", "√"}
_FALSE = {"0", "false", "no", "n", "否", "无", "×"}


def clean_value(field: FieldDefinition, raw):
    """The stored form of ``raw`` for ``field`` (JSON-friendly), or None when blank."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if field.required:
            raise ValidationError(
                _("%(field)s is required.") % {"field": field.label}, code="required"
            )
        return None
    if field.kind == Kind.ID_NUMBER:
        return id_numbers.normalize(raw).number
    if field.kind == Kind.DATE:
        return parse_date(raw).iso
    if field.kind == Kind.INTEGER:
        try:
            return int(
                unicodedata.normalize("NFKC", str(raw)).strip().split(".")[0]
                if not isinstance(raw, int)
                else raw
            )
        except ValueError:
            raise ValidationError(
                _("%(field)s must be a whole number.") % {"field": field.label}, code="not_integer"
            ) from None
    if field.kind == Kind.DECIMAL:
        try:
            return str(
                decimal.Decimal(unicodedata.normalize("NFKC", str(raw)).strip().replace(",", ""))
            )
        except decimal.InvalidOperation:
            raise ValidationError(
                _("%(field)s must be an amount.") % {"field": field.label}, code="not_decimal"
            ) from None
    if field.kind == Kind.BOOLEAN:
        text = str(raw).strip().lower()
        if isinstance(raw, bool):
            return raw
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ValidationError(
            _("%(field)s must be yes or no.") % {"field": field.label}, code="not_boolean"
        )
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if field.kind == Kind.CHOICE and field.choices and text not in field.choices:
        raise ValidationError(
            _("%(field)s must be one of: %(choices)s.")
            % {"field": field.label, "choices": "、".join(map(str, field.choices))},
            code="not_a_choice",
        )
    if field.max_length and len(text) > field.max_length:
        raise ValidationError(
            _("%(field)s is longer than %(max)d characters.")
            % {"field": field.label, "max": field.max_length},
            code="too_long",
        )
    if field.pattern and not re.fullmatch(field.pattern, text):
        raise ValidationError(
            _("%(field)s is not in the expected form.") % {"field": field.label}, code="bad_pattern"
        )
    return text


def clean_metadata(fields, data: dict, *, partial=False) -> dict:
    """Clean ``data`` against ``fields``; one ``ValidationError`` naming every bad field.

    With ``partial`` only the keys present are checked (an edit of a few fields). Keys that the
    schema does not know are refused, so no value is silently lost.
    """
    known = {f.key: f for f in fields}
    errors, cleaned = {}, {}
    for key in data:
        if key not in known:
            errors[key] = [
                ValidationError(
                    _("The category has no field “%(key)s”.") % {"key": key}, code="unknown_field"
                )
            ]
    for key, field in known.items():
        if partial and key not in data:
            continue
        try:
            value = clean_value(field, data.get(key))
        except ValidationError as exc:
            errors[key] = exc.error_list
            continue
        if value is not None:
            cleaned[key] = value
    if errors:
        raise ValidationError(errors)
    return cleaned
