"""``dangan import-transfer SRC [--json] [--check-only]``: check a transfer package and file its
records unchanged (same archival codes, metadata, persons and content digests).

A package refused — not a sound bag, a changed byte, XML outside our schemas, a code already on
file — ends with exit status 1 and one line that names the file and what failed (with
``--json``: one JSON object whose ``refused`` says the same); nothing is filed."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from dangan.appraisal import transfer


class Command(BaseCommand):
    help = "Check a transfer package and file its records unchanged."

    def add_arguments(self, parser):
        parser.add_argument("source", help="the package (.tar)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--check-only", action="store_true", help="check, file nothing")

    def handle(self, *args, source, **options):
        as_json = options["json"]

        def progress(done, total):
            if not as_json and (done == total or done % 500 == 0):
                self.stderr.write(f"\r{done}/{total} items", ending="")

        try:
            if options["check_only"]:
                run, _reading = transfer.check_transfer(source)
                result = {"passed": run.passed, "failed": run.failed(), "items": run.items}
                if not run.passed:
                    result["refused"] = transfer.first_evidence(run)
            else:
                result = transfer.import_transfer(
                    actor=None, source=source, progress=progress
                ).as_dict()
        except transfer.TransferRefused as refused:
            result = {
                "passed": False,
                "failed": refused.run.failed(),
                "items": 0,
                "report": refused.report.pk,
                "refused": refused.messages[0],
                "checks": [
                    {"id": o.check_id, "verdict": o.verdict, "evidence": o.evidence[:20]}
                    for o in refused.run.outcomes
                    if o.verdict == "fail"
                ],
            }
        except ValidationError as error:  # the bag refused (PackageRefused), or filing refused
            result = {"passed": False, "failed": [], "items": 0, "refused": error.messages[0]}
        except OSError as error:
            result = {"passed": False, "failed": [], "items": 0, "refused": f"{source}: {error}"}
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        elif result["passed"]:
            self.stderr.write("")
            self.stdout.write(f"{source}: {result['items']} items filed; checks passed")
        else:
            self.stderr.write(result["refused"])
        if not result["passed"]:
            raise SystemExit(1)
