"""Every user-facing string reaches the translators and is translated."""

import ast
from pathlib import Path

import polib

DANGAN = Path(__file__).resolve().parent.parent / "dangan"
GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "pgettext", "pgettext_lazy"}


def test_no_translated_string_hides_inside_an_f_string():
    """xgettext does not look inside f-strings: a ``_()`` there is never collected, and the
    page shows English to a Chinese user (a remote withdrawal's reason did)."""
    hidden = []
    for path in DANGAN.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.JoinedStr):
                continue
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Name)
                    and inner.func.id in GETTEXT
                ):
                    hidden.append(f"{path.relative_to(DANGAN.parent)}:{inner.lineno}")
    assert not hidden, "gettext inside an f-string: " + ", ".join(hidden)


def test_every_catalogue_entry_is_translated_and_none_is_a_guess():
    for language in ("zh_Hans", "zh_Hant"):
        catalogue = polib.pofile(str(DANGAN / "locale" / language / "LC_MESSAGES" / "django.po"))
        untranslated = [e.msgid for e in catalogue.untranslated_entries()]
        fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
        assert not untranslated, f"{language}: untranslated {untranslated[:5]}"
        assert not fuzzy, f"{language}: fuzzy (msgmerge's guess) {fuzzy[:5]}"
