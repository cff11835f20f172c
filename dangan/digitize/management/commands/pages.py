"""``dangan pages NUMBER [--json]``: a record's pages with their state and text."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils.translation import gettext as _

from dangan.catalogue.models import Record
from dangan.content.models import Page


class Command(BaseCommand):
    help = _("List a record's pages (by archival code or legacy number) with state and OCR text.")

    def add_arguments(self, parser):
        parser.add_argument("number")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, number, json: bool, **options):
        records = list(Record.objects.filter(Q(archival_code=number) | Q(legacy_number=number))[:2])
        if not records:
            raise CommandError(_("No record has the number %(n)s.") % {"n": number})
        if len(records) > 1:
            raise CommandError(_("More than one record has the number %(n)s.") % {"n": number})
        record = records[0]
        pages = (
            Page.objects.filter(record=record, role=Page.Role.ORIGINAL)
            .select_related("blob", "processing")
            .order_by("position")
        )
        rows = []
        for page in pages:
            processing = getattr(page, "processing", None)
            rows.append(
                {
                    "page": page.position,
                    "file": page.filename,
                    "format": page.blob.format_label,
                    "sha256": page.blob.sha256,
                    "state": processing.state if processing else "none",
                    "error": processing.error if processing else "",
                    "warnings": (processing.checks or {}).get("warnings", []) if processing else [],
                    "text": processing.text if processing else "",
                }
            )
        if json:
            self.stdout.write(
                _dump(
                    {
                        "record": record.archival_code or record.legacy_number,
                        "title": record.title,
                        "pages": rows,
                    }
                )
            )
            return
        self.stdout.write(f"{record.archival_code or record.legacy_number} {record.title}")
        for row in rows:
            self.stdout.write(f"— {row['page']} {row['file']} [{row['state']}] {row['format']}")
            for warning in row["warnings"]:
                self.stdout.write(f"  ! {warning['message']}")
            if row["text"]:
                self.stdout.write("  " + row["text"].replace("\n", "\n  "))


def _dump(value) -> str:
    return json.dumps(value, ensure_ascii=False)
