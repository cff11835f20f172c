"""``dangan export-transfer --category X --year Y DEST [--fonds F] [--json]``: write the filed
records of one category and year as a transfer package for the county archives (DA/T 93
layout, DA/T 48 EEP per item, BagIt), with its transfer-stage four-property report."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from dangan.appraisal import transfer
from dangan.catalogue.models import Category, Fonds


class Command(BaseCommand):
    help = "Write a transfer package (DA/T 93, DA/T 48 EEP, BagIt) of one category and year."

    def add_arguments(self, parser):
        parser.add_argument("destination", help="a directory, or a file name ending in .tar")
        parser.add_argument("--category", required=True, help="category code")
        parser.add_argument("--year", required=True, type=int)
        parser.add_argument("--fonds", help="fonds number (default: every fonds)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, destination, category, year, fonds=None, **options):
        as_json = options["json"]
        try:
            category = Category.objects.get(code=category)
            fonds = Fonds.objects.get(code=fonds) if fonds else None
        except (Category.DoesNotExist, Fonds.DoesNotExist):
            raise CommandError("No such category or fonds.") from None

        def progress(done, total):
            if not as_json and (done == total or done % 500 == 0):
                self.stderr.write(f"\r{done}/{total} items", ending="")

        try:
            exported = transfer.export_transfer(
                actor=None,
                category=category,
                year=year,
                destination=destination,
                fonds=fonds,
                progress=progress,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        result = exported.as_dict()
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        else:
            self.stderr.write("")
            self.stdout.write(
                f"{result['path']}: {result['items']} items, {result['files']} files, "
                f"{result['bytes']} bytes; checks "
                + ("passed" if result["passed"] else f"FAILED {', '.join(result['failed'])}")
                + f" (report {result['report']})"
            )
        if not result["passed"]:
            raise SystemExit(1)
