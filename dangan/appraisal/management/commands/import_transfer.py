"""``dangan import-transfer SRC [--json] [--check-only]``: check a transfer package and file its
records unchanged (same archival codes, metadata, persons and content digests)."""

import json

from django.core.management.base import BaseCommand, CommandError

from dangan.appraisal import transfer


class Command(BaseCommand):
    help = "Check a transfer package and file its records unchanged."

    def add_arguments(self, parser):
        parser.add_argument("source", help="the package (.tar)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--check-only", action="store_true", help="check, file nothing")

    def handle(self, *args, source, **options):
        as_json = options["json"]
        if options["check_only"]:
            run, reading = transfer.check_transfer(source)
            result = {"passed": run.passed, "failed": run.failed(), "items": run.items}
        else:

            def progress(done, total):
                if not as_json and (done == total or done % 500 == 0):
                    self.stderr.write(f"\r{done}/{total} items", ending="")

            try:
                result = transfer.import_transfer(
                    actor=None, source=source, progress=progress
                ).as_dict()
            except transfer.TransferRefused as refused:
                result = {
                    "passed": False,
                    "failed": refused.run.failed(),
                    "items": 0,
                    "report": refused.report.pk,
                    "checks": [
                        {"id": o.check_id, "verdict": o.verdict, "evidence": o.evidence[:20]}
                        for o in refused.run.outcomes
                        if o.verdict == "fail"
                    ],
                }
            except (OSError, ValueError) as error:
                raise CommandError(str(error)) from None
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        else:
            self.stderr.write("")
            state = "passed" if result["passed"] else f"FAILED {', '.join(result['failed'])}"
            self.stdout.write(f"{source}: {result['items']} items filed; checks {state}")
        if not result["passed"]:
            raise SystemExit(1)
