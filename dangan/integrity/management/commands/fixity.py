"""``dangan fixity``: read blobs back and check their digests (定期检测), and the storage.

    dangan fixity                  one round of the rolling schedule (what is due now)
    dangan fixity --all            every blob now
    dangan fixity --mb-per-s 0     without the bandwidth cap

Exit status 1 when a blob is changed, missing or unreadable, or orphans were found.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dangan.integrity.fixity import MB, ensure_scheduled, run_fixity


class Command(BaseCommand):
    help = "Read blobs back and check their SHA-256 (fixity audit); check free space."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="read every blob, not only the due")
        parser.add_argument(
            "--mb-per-s", type=float, default=None, help="bandwidth cap (0: none; default: setting)"
        )
        orphans = parser.add_mutually_exclusive_group()
        orphans.add_argument(
            "--orphans", action="store_true", default=None, help="list the store for orphan blobs"
        )
        orphans.add_argument("--no-orphans", dest="orphans", action="store_false")
        parser.add_argument(
            "--schedule", action="store_true", help="only put a round in the worker's queue"
        )
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args, **options):
        if options["schedule"]:
            queued = ensure_scheduled()
            self.stdout.write(
                _("A round is queued.") if queued else _("A round was already queued.")
            )
            return
        show = sys.stderr.isatty() and not options["json"]
        run, progress = run_fixity(
            trigger="all" if options["all"] else "command",
            everything=options["all"],
            mb_per_s=options["mb_per_s"],
            orphans=True if options["orphans"] is None and options["all"] else options["orphans"],
            on_blob=self._progress if show else None,
        )
        if show:
            self.stderr.write("")
        summary = {
            "run": run.pk,
            "blobs": run.blobs,
            "bytes": run.bytes,
            "seconds": run.seconds,
            "mb_per_s": round(run.bytes / MB / run.seconds, 1) if run.seconds else None,
            "cap_mb_per_s": run.mb_per_s_cap,
            "failures": progress.failures,
            "orphans": run.orphans,
            "storage": run.storage,
        }
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
        else:
            self._summary(run, progress)
        if run.failures or run.orphans:
            raise CommandError(_("Fixity audit found problems."), returncode=1)

    def _summary(self, run, progress):
        self.stdout.write(
            _("%(blobs)d blobs, %(mb).1f MB read in %(seconds).1f s; %(failed)d failed.")
            % {
                "blobs": run.blobs,
                "mb": run.bytes / MB,
                "seconds": run.seconds,
                "failed": run.failures,
            }
        )
        for failure in progress.failures:
            if "sha256" in failure:
                self.stdout.write(
                    f"  {failure['outcome']}: {failure['sha256']} {failure['finding']}"
                )
        if run.orphans is not None:
            self.stdout.write(_("Orphan blobs in the store: %(n)d") % {"n": run.orphans})
        for place in run.storage:
            free = "—" if place["free"] is None else f"{place['free'] / 1e9:.1f} GB"
            flag = " !" if place["low"] or place["problem"] else ""
            self.stdout.write(
                f"  {place['name']}: {place['where']} {free}{flag} {place['problem']}"
            )

    def _progress(self, progress, total):
        self.stderr.write(
            f"\r{progress.blobs:,} / {total:,} blobs, {progress.bytes / MB:,.0f} MB", ending=""
        )
        self.stderr.flush()
