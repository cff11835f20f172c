"""``dangan ledger``: seal complete days, export a day, fill the witness folder.

dangan ledger seal [--json]                      seal every complete day (run daily)
dangan ledger export DAY [--json F] [--pdf F]    a sealed day as JSON (every entry) and/or PDF
dangan ledger witness                            copy sealed days missing from the witness folder
"""

import datetime
import json

from django.core.management.base import BaseCommand, CommandError

from dangan.integrity import ledger
from dangan.integrity.models import DayRoot


class Command(BaseCommand):
    help = "Seal, export and witness the ledger's day roots."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        seal = sub.add_parser("seal", help="Seal every complete day.")
        seal.add_argument("--json", action="store_true")
        export = sub.add_parser("export", help="Export a sealed day.")
        export.add_argument("day", help="YYYY-MM-DD")
        export.add_argument("--json", dest="json_file", help="write the day as JSON here")
        export.add_argument("--pdf", dest="pdf_file", help="write the printable page here")
        sub.add_parser("witness", help="Copy sealed days missing from the witness folder.")

    def handle(self, *args, action, **options):
        return getattr(self, f"_{action}")(**options)

    def _seal(self, *, json: bool = False, **options):
        sealed = ledger.seal_days()
        if json:
            self.stdout.write(
                _dumps(
                    {"sealed": [{"day": r.day, "root": r.root, "count": r.count} for r in sealed]}
                )
            )
        else:
            for root in sealed:
                self.stdout.write(f"{root.day} {root.count} entries, root {root.root}")
            self.stdout.write(f"{len(sealed)} day(s) sealed.")

    def _export(self, *, day, json_file=None, pdf_file=None, **options):
        try:
            root = DayRoot.objects.get(day=datetime.date.fromisoformat(day))
        except (ValueError, DayRoot.DoesNotExist):
            raise CommandError(f"No sealed day {day}.") from None
        document = ledger.day_document(root)
        if json_file:
            with open(json_file, "w") as out:
                out.write(json.dumps(document, ensure_ascii=False, indent=1))
        if pdf_file:
            with open(pdf_file, "wb") as out:
                out.write(ledger.day_pdf(root))
        if not json_file and not pdf_file:
            self.stdout.write(_dumps(document))

    def _witness(self, **options):
        folder = ledger.witness_dir()
        if folder is None:
            raise CommandError("No witness folder: set DANGAN_LEDGER_WITNESS_DIR.")
        written = 0
        for root in DayRoot.objects.order_by("day"):
            if not ledger.witness_file(folder, root.day).exists():
                ledger.write_witness(root, folder)
                written += 1
        self.stdout.write(f"{written} day(s) copied to {folder}.")


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
