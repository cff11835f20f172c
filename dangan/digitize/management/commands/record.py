"""``dangan record CODE [--json]``: one record as an operator sees it.

Its description, its volume (or, for a volume, its items in order), its relations both ways,
its persons and its files — originals and their PDF/A renditions, with format and PRONOM
identifier. With ``--json`` one object with at least ``code``, ``title``, ``state``, ``level``,
``volume`` (code or null), ``items``, ``relations`` (``{"kind", "code"}``) and ``files``
(``{"name", "format", "puid", "role"}``, role ``original`` or ``rendition``). ID numbers are
masked; the reading is audited.
"""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dangan.digitize.selectors import record_by_number, record_card


class Command(BaseCommand):
    help = _("Show one record (by archival code): volume, items, relations and files.")

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--json", action="store_true", help=_("print one JSON object"))

    def handle(self, *args, code, **options):
        try:
            card = record_card(record_by_number(code))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        if options["json"]:
            self.stdout.write(json.dumps(card, ensure_ascii=False))
            return
        self.stdout.write(f"{card['code']} {card['title']}")
        self.stdout.write(
            _("state %(state)s, level %(level)s, category %(category)s, year %(year)s") % card
        )
        if card["volume"]:
            self.stdout.write(_("in volume %(volume)s") % card)
        for number, item in enumerate(card["items"], start=1):
            self.stdout.write(f"  {number}. {item}")
        for relation in card["relations"]:
            arrow = "→" if relation["direction"] == "out" else "←"
            self.stdout.write(f"{arrow} {relation['kind']} {relation['code']} {relation['title']}")
        for person in card["persons"]:
            self.stdout.write(f"{person['name']} {person['id_number']}")
        for file in card["files"]:
            self.stdout.write(
                f"[{file['role']}] {file['page']}. {file['name']} {file['format']} {file['puid']}"
            )
