"""``dangan import-catalogue FILE --category CODE``: import an old register (台账).

Exit status: 0 when the file was read (bad rows are reported, not fatal); 2 when the file, the
category, the fonds or the mapping file cannot be used at all.
"""

import json
import sys
import time

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dangan.intake import mapping as mappings
from dangan.intake import services


class Command(BaseCommand):
    help = _("Import an old register (.xlsx or .csv) into a category of the catalogue.")

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("The register: .xlsx, or .csv in UTF-8 or GBK."))
        parser.add_argument(
            "--category", required=True, help=_("Category code (SYTG) or name (失业人员托管档案).")
        )
        parser.add_argument(
            "--fonds", default=None, help=_("Fonds number (default: the first fonds, A001).")
        )
        parser.add_argument(
            "--mapping",
            default=None,
            help=_('A JSON file {"column header": "field"}; default: by header names.'),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Check every row and report, but write nothing."),
        )
        parser.add_argument(
            "--confirm-filed",
            action="store_true",
            help=_("Change filed records too (the dry run lists the changes); needs --reason."),
        )
        parser.add_argument(
            "--reason", default="", help=_("Why filed records are changed (their history).")
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help=_("Print one JSON object with the outcome on stdout."),
        )

    def handle(self, *args, **options):
        try:
            category = services.find_category(options["category"])
            fonds = services.find_fonds(options["fonds"])
            mapping = mappings.load(options["mapping"]) if options["mapping"] else None
            progress = None
            if not options["json"] and sys.stderr.isatty():
                progress = _Progress(self.stderr)
            report = services.import_register(
                actor=None,
                path=options["file"],
                category=category,
                fonds=fonds,
                mapping=mapping,
                dry_run=options["dry_run"],
                progress=progress,
                confirm_filed=options["confirm_filed"],
                reason=options["reason"],
            )
            if progress:
                self.stderr.write("")
        except (ValidationError, PermissionDenied) as exc:
            message = " ".join(getattr(exc, "messages", [str(exc)]))
            if options["json"]:
                self.stdout.write(
                    json.dumps(
                        {"error": message, "code": getattr(exc, "code", "")}, ensure_ascii=False
                    )
                )
            raise CommandError(message) from exc  # exit 1: refused input (2 is a usage error)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, default=str))
        else:
            self._summary(report)

    def _summary(self, report):
        write = self.stdout.write
        write(
            _("Register %(file)s, sheet “%(sheet)s”, header in row %(row)d.")
            % {"file": report.file, "sheet": report.sheet, "row": report.header_row}
        )
        write(_("Column mapping:"))
        # Outside the f-strings below: xgettext does not collect a _() inside one.
        not_imported, row_word = _("(not imported)"), _("Row")
        for header, target in report.mapping.items():
            write(f"  {header} → {target or not_imported}")
        for warning in report.warnings:
            write(self.style.WARNING(warning))
        for skipped in report.skipped:
            write(_("Row %(row)d skipped: totals row “%(text)s”.") % skipped)
        for duplicate in report.duplicates:
            write(_("Row %(row)d repeats row %(first_row)d: not imported again.") % duplicate)
        for change in report.changes:
            label = change["archival_code"] or f"#{change['record']}"
            status = {
                "held": _("held (filed: needs --confirm-filed and --reason)"),
                "would_change": _("would change"),
                "changed": _("changed, as confirmed"),
            }[change["status"]]
            write(f"{row_word} {change['row']} {label}: {status}")
            for f in change["fields"]:
                write(f"    {f['label']}: {f['before'] or '—'} → {f['after'] or '—'}")
        for error in sorted(report.errors, key=lambda e: e.row):
            write(
                self.style.ERROR(
                    f"{row_word} {error.row} [{error.column}] {error.code}: {error.message}"
                )
            )
        for check in sorted(report.checks, key=lambda e: e.row):
            write(
                self.style.WARNING(
                    f"{row_word} {check.row} [{check.column}] {check.code}: {check.message}"
                )
            )
        prefix = _("Dry run, nothing written: ") if report.dry_run else ""
        write(
            prefix
            + _(
                "%(rows)d rows: %(created)d created, %(updated)d updated, "
                "%(held)d held (filed), %(unchanged)d unchanged, %(errors)d with errors, "
                "%(duplicates)d duplicates, %(skipped)d skipped; %(seconds).1f s."
            )
            % {
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "held": report.held,
                "unchanged": report.unchanged,
                "errors": report.error_rows,
                "duplicates": len(report.duplicates),
                "skipped": len(report.skipped),
                "seconds": report.seconds,
            }
        )


class _Progress:
    """Rows done and the rate, rewritten in place on a terminal."""

    def __init__(self, stream):
        self.stream, self.started = stream, time.monotonic()

    def __call__(self, report):
        elapsed = max(time.monotonic() - self.started, 0.001)
        self.stream.write(
            "\r"
            + _("%(rows)d rows, %(rate)d rows/s")
            % {"rows": report.rows, "rate": report.rows / elapsed},
            ending="",
        )
        self.stream.flush()
