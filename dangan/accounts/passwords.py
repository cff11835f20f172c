"""The password policy beyond Django's own validators: character classes, and a local list of
the passwords (and pinyin stems) Chinese users pick most often, shipped with Dangan so the check
works offline (``data/common-passwords.txt``)."""

import functools
import re
import unicodedata
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt"


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _stems(password: str) -> set[str]:
    """The password itself, and with leading/trailing digits and signs cut off (zhangwei1988,
    1314woaini, Admin@123 → zhangwei, woaini, admin)."""
    text = unicodedata.normalize("NFKC", password).lower()
    trimmed = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", text)
    return {text, trimmed, re.sub(r"[\W\d_]+$", "", text), re.sub(r"^[\W\d_]+", "", text)} - {""}


class CommonChinesePasswordValidator:
    """Refuses 123456, woaini1314, 5201314, qq123456, a pinyin name with a birth year, …"""

    def validate(self, password, user=None):
        if _stems(password) & common_passwords():
            raise ValidationError(
                _("This password is one of the most common passwords; choose another."),
                code="password_too_common",
            )

    def get_help_text(self):
        return _("Not a common password such as 123456, woaini1314 or a name with a birth year.")


class CharacterClassesValidator:
    """At least ``min_classes`` of: lower-case letters, capitals, digits, other signs."""

    def __init__(self, min_classes=3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        classes = [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() or not c.isascii() for c in password),
        ]
        if sum(classes) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self):
        return ngettext(
            "Use at least %(n)d kind of character: lower-case, capitals, digits, other signs.",
            "Use at least %(n)d kinds of character: lower-case, capitals, digits, other signs.",
            self.min_classes,
        ) % {"n": self.min_classes}
