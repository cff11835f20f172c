"""``dangan ingest-scans DIR [--json] [--wait]``: attach a folder tree of scans to its records."""

import json
import sys
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dangan.digitize import services
from dangan.digitize.ingest import run_batch, start_batch
from dangan.digitize.models import PageProcessing
from dangan.security.logmasking import mask_id_numbers


class Command(BaseCommand):
    help = _(
        "Attach scanned pages to their records: one folder per record, named by its archival "
        "code or legacy number. Pages are read (OCR) in the background."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder")
        parser.add_argument("--json", action="store_true", help=_("print one JSON object"))
        parser.add_argument(
            "--wait",
            action="store_true",
            help=_("return only when every page of the batch is processed (reads them here)"),
        )

    def handle(self, *args, folder, json: bool, wait: bool, **options):
        try:
            batch = start_batch(actor=None, folder=folder)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        report = run_batch(batch.pk)
        if wait:
            self._finish(batch, quiet=json)
        rows = PageProcessing.objects.filter(batch=batch)
        report["states"] = {
            state: rows.filter(state=state).count() for state in PageProcessing.State.values
        }
        # A page showing an ID number no person of its record has: a file in the wrong folder?
        report["mismatched"] = [
            {
                "record": row.page.record.archival_code or row.page.record.legacy_number,
                "page": row.page.position,
                "messages": row.suggestions.get("messages", []),
            }
            for row in rows.filter(suggestions__id_mismatch=True).select_related("page__record")
        ]
        for reading in (report.get("unnamed") or {}).values():  # never a full ID number out
            reading["fields"] = {
                key: [mask_id_numbers(v) for v in values]
                for key, values in (reading.get("fields") or {}).items()
            }
        if json:
            self.stdout.write(_dump(report))
        else:
            self._summary(report)

    def _finish(self, batch, *, quiet):
        """Read the batch's pages in this process, beside any worker, until none is left."""
        rows = PageProcessing.objects.filter(batch=batch)
        total = rows.count()
        while True:
            for pk in services._claimable().filter(batch=batch).values_list("pk", flat=True):
                services.process_page(pk)
                if not quiet and sys.stderr.isatty():
                    done = rows.filter(state__in=["done", "failed"]).count()
                    sys.stderr.write(f"\r{done}/{total}")
            if not rows.filter(state__in=["pending", "running"]).exists():
                break
            time.sleep(1)  # a worker holds some pages: wait for it
        if not quiet and sys.stderr.isatty():
            sys.stderr.write("\n")

    def _summary(self, report):
        self.stdout.write(
            _("%(records)d records matched, %(pages)d pages added, %(skipped)d already there.")
            % report
        )
        for name in report["unmatched"]:
            self.stdout.write(_("No record for folder %(name)s") % {"name": name})
            self._unnamed((report.get("unnamed") or {}).get(name) or {})
        for name in report["ambiguous"]:
            self.stdout.write(_("More than one record for folder %(name)s") % {"name": name})
        for gap in report["gaps"]:
            self.stdout.write(
                _("Folder %(folder)s lacks pages %(missing)s")
                % {"folder": gap["folder"], "missing": ", ".join(map(str, gap["missing"]))}
            )
        for error in report["errors"]:
            self.stdout.write(f"{error['folder']}/{error['file']}: {error['message']}")
        for row in report["mismatched"]:
            self.stdout.write(f"{row['record']} · {row['page']}: {' '.join(row['messages'])}")
        states = report["states"]
        self.stdout.write(
            _("Pages read: %(done)d, waiting: %(pending)d, failed: %(failed)d.")
            % {
                "done": states["done"],
                "pending": states["pending"] + states["running"],
                "failed": states["failed"],
            }
        )

    def _unnamed(self, reading):
        """What the first page of a folder that matches no record says (masked above), and
        the classifier's category for it."""
        for values in (reading.get("fields") or {}).values():
            self.stdout.write("  " + " · ".join(values))
        proposal = reading.get("proposal") or {}
        if proposal.get("category"):
            self.stdout.write(
                "  "
                + _("Proposed category: %(category)s, retention %(retention)s (%(percent)d %%)")
                % {**proposal, "percent": round(100 * proposal["confidence"])}
            )
        if reading.get("records"):
            self.stdout.write(
                "  " + _("The page shows the ID number of a person catalogued in other records.")
            )


def _dump(value) -> str:
    return json.dumps(value, ensure_ascii=False)
