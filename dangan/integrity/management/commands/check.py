"""``dangan check --stage {filing,transfer,preservation} [--json]``: the DA/T 70 four-property
checks (四性检测) at a stage, one kept report per batch; exit 1 when a batch fails.

dangan check --stage filing [--records 1,2,3]      records filed since the last filing run
dangan check --stage preservation [--batch 5000]   every filed record with content
dangan check --stage transfer PACKAGE              a transfer package

Without ``--stage`` it is Django's own ``check`` (the system checks), which it extends.
"""

import json
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.core.management.commands.check import Command as SystemCheckCommand

from dangan.integrity import stages


class Command(SystemCheckCommand):
    help = (
        "Django's system checks; with --stage, the four-property checks (DA/T 70) at that stage,"
        " keeping the reports (at the transfer stage the argument is the package)."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)  # app labels (the package at the transfer stage), --deploy…
        parser.add_argument("--stage", choices=["filing", "transfer", "preservation"])
        parser.add_argument("--records", help="record ids, comma-separated (filing stage)")
        parser.add_argument("--batch", type=int, default=5000, help="records per report")
        parser.add_argument("--sm3", action="store_true", help="also recompute SM3")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, stage=None, **options):
        if stage is None:
            return super().handle(*args, **options)
        if stage == "transfer":
            if len(args) != 1:
                raise CommandError("The transfer stage checks a package: give its path.")
            try:
                reports = [stages.check_transfer(actor=None, source=args[0])]
            except ValidationError as refused:  # not a sound bag: one line, nothing kept
                raise CommandError(refused.messages[0]) from None
        elif stage == "filing":
            ids = None
            if options["records"]:
                try:
                    ids = [int(n) for n in options["records"].split(",") if n.strip()]
                except ValueError:
                    raise CommandError("--records takes numbers, comma-separated.") from None
            reports = stages.check_filing(
                actor=None, record_ids=ids, batch=options["batch"], verify_sm3=options["sm3"]
            )
        else:
            reports = stages.check_preservation(
                actor=None, batch=options["batch"], verify_sm3=options["sm3"]
            )
        passed = all(r.passed for r in reports)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "stage": stage,
                        "passed": passed,
                        "reports": [
                            {
                                "id": r.pk,
                                "subject": r.subject_repr,
                                "passed": r.passed,
                                "items": r.items,
                                "files": r.files,
                                "bytes": r.bytes,
                                "failed": [
                                    x.check_id for x in r.results.all() if x.verdict == "fail"
                                ],
                            }
                            for r in reports
                        ],
                    },
                    ensure_ascii=False,
                )
            )
        else:
            for r in reports:
                failed = [x.check_id for x in r.results.all() if x.verdict == "fail"]
                outcome = "passed" if r.passed else "FAILED " + " ".join(failed)
                self.stdout.write(
                    f"report {r.pk} {r.subject_repr}: {r.items} items, {r.files} files, "
                    f"{r.bytes / 1e6:.1f} MB — {outcome}"
                )
            self.stdout.write(f"{len(reports)} report(s), {'all passed' if passed else 'FAILED'}.")
        if not passed:
            sys.exit(1)
