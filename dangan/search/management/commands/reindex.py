"""``dangan reindex``: build the search index again, or only catch up (``--pending``)."""

import json
import sys

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from dangan.search.services import index_pending, rebuild_index, reindex_records


class Command(BaseCommand):
    help = "Rebuild the search index from the catalogue and the pages' OCR text."

    def add_arguments(self, parser):
        parser.add_argument(
            "--pending",
            action="store_true",
            help="only records without an entry or changed since (and entries of deleted ones)",
        )
        parser.add_argument("--records", nargs="+", type=int, help="only these record ids")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args, **options):
        if options["records"]:
            reindex_records(options["records"])
            summary = {"indexed": len(options["records"])}
        elif options["pending"]:
            summary = index_pending()
        else:
            summary = rebuild_index(progress=self._progress if sys.stderr.isatty() else None)
            if sys.stderr.isatty():
                self.stderr.write("")
        if options["json"]:
            self.stdout.write(json.dumps(summary))
            return
        if "records" in summary:
            self.stdout.write(
                _(
                    "%(records)s records indexed in %(seconds)s s (%(rate)s a second), "
                    "index %(size)s MB, %(backend)s."
                )
                % {
                    "records": summary["records"],
                    "seconds": summary["seconds"],
                    "rate": summary["records_per_second"],
                    "size": round((summary["size_bytes"] or 0) / 2**20, 1),
                    "backend": summary["backend"],
                }
            )
        else:
            self.stdout.write(
                _("%(indexed)s records indexed, %(removed)s entries removed.")
                % {"indexed": summary["indexed"], "removed": summary.get("removed", 0)}
            )

    def _progress(self, done, total):
        self.stderr.write(f"\r{done:,} / {total:,}", ending="")
        self.stderr.flush()
