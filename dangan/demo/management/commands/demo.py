"""``dangan demo``: add realistic demonstration units, users, persons and records."""

import json
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from dangan.demo.generator import generate

ACTIVITY = ("visits", "loans", "requests", "holds", "surveys", "volumes")


class Command(BaseCommand):
    help = _(
        "Add demo units, users, persons and records in every category (through the "
        "services, so archival codes and the audit trail are real)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--persons", type=int, default=300, help=_("how many persons to add (default 300)")
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=None,
            help=_("random seed: the same seed on the same archive gives the same data"),
        )
        parser.add_argument(
            "--no-scans",
            action="store_true",
            help=_("do not draw the scanned forms (their OCR takes a few seconds a page)"),
        )
        parser.add_argument(
            "--read-later",
            action="store_true",
            help=_(
                "leave the reading (OCR) of the demo's pages, and the drawing of its scanned "
                "forms, to the worker instead of doing it before the command ends (dangan run "
                "does)"
            ),
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help=_("print one JSON object with the summary on stdout"),
        )

    def handle(self, *args, persons, seed, json=False, no_scans=False, read_later=False, **options):
        verbosity = options.get("verbosity", 1)
        show_progress = verbosity >= 1 and not json and sys.stderr.isatty()
        started = time.monotonic()

        def progress(done, total):
            if show_progress:
                sys.stderr.write(
                    "\r" + _("Persons: %(done)d of %(total)d") % {"done": done, "total": total}
                )
                sys.stderr.flush()

        password_file = settings.DATA_DIR / "demo-password"
        summary = generate(
            persons=persons,
            seed=seed,
            password_file=password_file,
            progress=progress,
            scans=not no_scans,
            read=not read_later,
        )
        if show_progress:
            sys.stderr.write("\n")
        seconds = round(time.monotonic() - started, 2)
        password = password_file.read_text().strip()
        if json:
            self.stdout.write(
                _json_dumps(
                    {
                        "seed": summary.seed,
                        "persons": summary.persons,
                        "records": summary.records,
                        "by_category": dict(sorted(summary.by_category.items())),
                        "units_created": summary.units_created,
                        "users_created": summary.users_created,
                        "users_existing": summary.users_existing,
                        "users": summary.users_created + summary.users_existing,
                        "activity": dict(sorted(summary.activity.items())),
                        "scans": summary.scans,
                        "scans_later": summary.scans_later,
                        "pages": summary.pages,
                        "password": password,
                        "password_file": str(password_file),
                        "seconds": seconds,
                    }
                )
            )
            return
        if verbosity < 1:
            return
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Added %(persons)d persons and %(records)d records in %(seconds)s s "
                    "(seed %(seed)d)."
                )
                % {
                    "persons": summary.persons,
                    "records": summary.records,
                    "seconds": seconds,
                    "seed": summary.seed,
                }
            )
        )
        self.stdout.write(
            ", ".join(f"{code} {n}" for code, n in sorted(summary.by_category.items()))
        )
        if summary.activity:
            self.stdout.write(
                _(
                    "The archive at work: %(visits)d visits, %(loans)d loans, %(requests)d "
                    "copy requests, %(holds)d holds, %(surveys)d survey opened, "
                    "%(volumes)d volumes assembled."
                )
                % {k: summary.activity[k] for k in ACTIVITY}
            )
        if summary.scans_later:
            self.stdout.write(_("The scanned forms are drawn and read by the worker."))
        elif summary.scans:
            if summary.pages:
                self.stdout.write(
                    _(
                        "Scanned forms: %(scans)d drawn; pages read: %(done)d, failed: "
                        "%(failed)d (search their text, or open a record's pages)."
                    )
                    % {
                        "scans": summary.scans,
                        "done": summary.pages.get("done", 0),
                        "failed": summary.pages.get("failed", 0),
                    }
                )
        users = summary.users_created + summary.users_existing
        self.stdout.write(
            _("Demo users: %(users)s — password %(password)s (kept in %(file)s).")
            % {"users": ", ".join(users), "password": password, "file": password_file}
        )
        if summary.users_existing:
            self.stdout.write(
                _("Users that existed already were left unchanged: %(users)s.")
                % {"users": ", ".join(summary.users_existing)}
            )


def _json_dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)
