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
        for name in report["ambiguous"]:
            self.stdout.write(_("More than one record for folder %(name)s") % {"name": name})
        for gap in report["gaps"]:
            self.stdout.write(
                _("Folder %(folder)s lacks pages %(missing)s")
                % {"folder": gap["folder"], "missing": ", ".join(map(str, gap["missing"]))}
            )
        for error in report["errors"]:
            self.stdout.write(f"{error['folder']}/{error['file']}: {error['message']}")
        states = report["states"]
        self.stdout.write(
            _("Pages read: %(done)d, waiting: %(pending)d, failed: %(failed)d.")
            % {
                "done": states["done"],
                "pending": states["pending"] + states["running"],
                "failed": states["failed"],
            }
        )


def _dump(value) -> str:
    return json.dumps(value, ensure_ascii=False)
