"""``dangan pages NUMBER [--json]``: a record's pages with their state and text.

ID numbers in the titles, file names and OCR text are masked (first six and last four digits
kept); the reading is audited."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dangan.digitize.selectors import record_by_number, record_pages


class Command(BaseCommand):
    help = _("List a record's pages (by archival code or legacy number) with state and OCR text.")

    def add_arguments(self, parser):
        parser.add_argument("number")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, number, json: bool, **options):
        try:
            listing = record_pages(record_by_number(number))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        if json:
            self.stdout.write(_dump(listing))
            return
        self.stdout.write(f"{listing['record']} {listing['title']}")
        for row in listing["pages"]:
            self.stdout.write(f"— {row['page']} {row['file']} [{row['state']}] {row['format']}")
            for warning in row["warnings"]:
                self.stdout.write(f"  ! {warning['message']}")
            if row["text"]:
                self.stdout.write("  " + row["text"].replace("\n", "\n  "))


def _dump(value) -> str:
    return json.dumps(value, ensure_ascii=False)
