"""``dangan verify [--json]``: recompute the ledger, the day roots, every record's metadata
digest, every blob's bytes and the audit chain; exit 1 naming what is wrong.

Run it daily (it seals the complete days first); ``--sm3 all`` recomputes every SM3 digest
instead of the rolling sample.
"""

import json
import sys

from django.core.management.base import BaseCommand

from dangan.integrity.verify import verify


class Command(BaseCommand):
    help = "Verify the ledger, day roots, record metadata, stored bytes and the audit trail."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--sm3",
            choices=["sample", "all", "none"],
            default="sample",
            help="SM3 of every blob (all), a rolling sample (default) or none",
        )
        parser.add_argument("--no-blobs", action="store_true", help="skip reading the stored bytes")
        parser.add_argument("--workers", type=int, default=None, help="processes for the chain")
        parser.add_argument("--no-seal", action="store_true", help="do not seal complete days")

    def handle(self, *args, **options):
        if not options["json"]:
            self.stderr.write("Verifying the ledger, records, content and audit trail…")
        report, run = verify(
            workers=options["workers"],
            sm3=options["sm3"],
            read_blobs=not options["no_blobs"],
            seal=not options["no_seal"],
        )
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, default=str))
        else:
            codes = _codes(report.problems)
            for problem in report.problems:
                subject = problem["subject"]
                if subject in codes:
                    subject = f"{subject} {codes[subject]}"
                self.stdout.write(f"[{problem['check']}] {subject}: {problem['message']}")
            c = report.counts
            self.stdout.write(
                f"{'OK' if report.passed else 'FAILED'}: {c.get('entries', 0)} ledger entries "
                f"({c.get('days', 0)} days, {c.get('sealed_days', 0)} sealed), "
                f"{c.get('records', 0)} records, {c.get('blobs', 0)} blobs "
                f"({c.get('bytes', 0) / 1e6:.1f} MB, SM3 of {c.get('sm3', 0)}), "
                f"{c.get('audit_events', 0)} audit events; {len(report.problems)} problems "
                f"in {report.seconds:.1f} s."
            )
        if not report.passed:
            sys.exit(1)


def _codes(problems) -> dict:
    """The archival codes of the records named, for the operator at the console."""
    from dangan.catalogue.models import Record

    ids = [
        int(p["subject"].split(":")[1])
        for p in problems
        if p["subject"].startswith("record:") and p["subject"].split(":")[1].isdigit()
    ]
    return {
        f"record:{pk}": code or "—"
        for pk, code in Record.objects.filter(pk__in=ids).values_list("pk", "archival_code")
    }
