"""``dangan duplicates [--kind persons|records|pages] [--json]``: look for duplicates and list the
open proposals (疑似重复), each with its score and reason.

The scan stores what it finds for the archivists' page "Suspected duplicates"; a pair already
rejected there is not listed again. ``--json`` prints a list of objects ``{"kind", "a", "b",
"score", "reason"}``, ``a`` and ``b`` the two objects' database ids. ``--no-scan`` lists what the
last scan stored."""

import json

from django.core.management.base import BaseCommand

from dangan.assist import duplicates, services
from dangan.assist.models import DuplicateProposal


class Command(BaseCommand):
    help = "Look for duplicate persons, records and pages; list the open proposals."

    def add_arguments(self, parser):
        parser.add_argument("--kind", choices=duplicates.KINDS, help="one kind only")
        parser.add_argument("--json", action="store_true", help="a JSON list on stdout")
        parser.add_argument("--no-scan", action="store_true", help="list the stored proposals")

    def handle(self, *args, **options):
        kinds = [options["kind"]] if options["kind"] else list(duplicates.KINDS)
        summary = {} if options["no_scan"] else services.scan_duplicates(kinds=kinds)
        proposals = DuplicateProposal.objects.filter(
            kind__in=kinds, state=DuplicateProposal.State.OPEN
        ).order_by("kind", "-score", "a", "b")
        if options["json"]:
            listed = [
                {"kind": p.kind, "a": p.a, "b": p.b, "score": p.score, "reason": p.reason}
                for p in proposals
            ]
            self.stdout.write(json.dumps(listed, ensure_ascii=False))
            return
        for kind, counts in summary.items():
            self.stderr.write(
                f"{kind}: {counts['found']} found, {counts['new']} new, "
                f"{counts['withdrawn']} withdrawn, {counts['seconds']} s"
            )
        for p in proposals:
            self.stdout.write(
                f"{p.kind}\t{p.a}\t{p.b}\t{p.score:.2f}\t{duplicates.describe(p.reason)}"
            )
