"""Write the zh-Hant catalogue from the zh-Hans one, converted by OpenCC (simplified → traditional characters).

The translators keep ``dangan/locale/zh_Hans/LC_MESSAGES/django.po`` up to date; this script
makes ``zh_Hant`` from it so the two never drift apart. Run by ``make messages``.
"""

import sys
from pathlib import Path

import opencc
import polib

LOCALE = Path(__file__).resolve().parent.parent / "dangan" / "locale"


def main() -> int:
    convert = opencc.OpenCC("s2tw").convert
    source = polib.pofile(str(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    target = polib.POFile()
    target.metadata = {**source.metadata, "Language": "zh_Hant"}
    for entry in source:
        if entry.obsolete:
            continue
        copy = polib.POEntry(
            msgid=entry.msgid,
            msgid_plural=entry.msgid_plural,
            msgctxt=entry.msgctxt,
            occurrences=entry.occurrences,
            flags=[f for f in entry.flags if f != "fuzzy"] if entry.msgstr else entry.flags,
            msgstr=convert(entry.msgstr) if entry.msgstr else "",
            msgstr_plural={k: convert(v) for k, v in entry.msgstr_plural.items()},
        )
        target.append(copy)
    path = LOCALE / "zh_Hant" / "LC_MESSAGES"
    path.mkdir(parents=True, exist_ok=True)
    target.save(str(path / "django.po"))
    target.save_as_mofile(str(path / "django.mo"))
    source.save_as_mofile(str(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.mo"))
    print(f"zh_Hant: {len(target)} messages, {target.percent_translated()}% translated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
