"""``dangan attach CODE FILE... [--json] [--wait]``: add files to a record by its archival code.

Each file is taken on its own: one refused (a macro, a password, a program …) is reported with
the reason and the others are kept. For each file a line, or with ``--json`` a list of
``{"file", "state", "format", "puid", "rendition"}`` — ``state`` ``kept`` or ``refused`` (then
``reason``), ``rendition`` null or ``{"format", "state"}`` (the PDF/A-2b a Word, Excel or WPS
document gets: ``pending`` until the worker makes it, or made here with ``--wait``).
Exit status 1 when a file was refused.
"""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dangan.digitize.selectors import record_by_number
from dangan.digitize.services import attach_files


class Command(BaseCommand):
    help = _("Add files to a record (by archival code); born-digital documents get a PDF/A.")

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--json", action="store_true", help=_("print a JSON list"))
        parser.add_argument(
            "--wait", action="store_true", help=_("make the renditions now, not in the worker")
        )

    def handle(self, *args, code, files, **options):
        try:
            record = record_by_number(code)
            lines = attach_files(
                actor=None, record=record, paths=[Path(f) for f in files], wait=options["wait"]
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        if options["json"]:
            self.stdout.write(json.dumps(lines, ensure_ascii=False))
        else:
            for line in lines:
                self.stdout.write(_describe(line))
        refused = sum(line["state"] == "refused" for line in lines)
        if refused:
            raise CommandError(
                _("%(refused)d of %(total)d files refused.")
                % {"refused": refused, "total": len(lines)}
            )


def _describe(line: dict) -> str:
    if line["state"] == "refused":
        return _("%(file)s: refused — %(reason)s") % line
    text = _("%(file)s: kept as %(format)s") % line
    if line["puid"]:
        text += f" ({line['puid']})"
    if line["rendition"]:
        text += "; " + _("rendition %(format)s: %(state)s") % line["rendition"]
    return text
