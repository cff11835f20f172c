"""``dangan backup DEST``: a consistent snapshot of database, content and data folder.

    dangan backup /mnt/usb-backup --medium "USB disk 2 TB, no. 3" --location "档案室保险柜"
    dangan backup /mnt/usb-backup --verify          read the newest snapshot back, whole

The backup is registered in the backup-media register; see docs/integrity.md.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dangan.integrity.backups import BackupError, backup, verify_backup


class Command(BaseCommand):
    help = "Back up database, content (incremental) and data folder to DEST."

    def add_arguments(self, parser):
        parser.add_argument("dest", help="folder of the backup (a mounted disk)")
        parser.add_argument("--medium", default="", help="the medium, e.g. 'USB disk no. 3'")
        parser.add_argument("--location", default="", help="where the medium is kept")
        parser.add_argument("--operator", default="", help="who made it (default: login name)")
        parser.add_argument(
            "--no-verify", action="store_true", help="do not read the snapshot back afterwards"
        )
        parser.add_argument(
            "--verify", action="store_true", help="only read a snapshot back (the newest)"
        )
        parser.add_argument("--snapshot", default="", help="with --verify: which snapshot")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args, dest, **options):
        show = sys.stderr.isatty() and not options["json"]
        progress = self._progress if show else None
        try:
            if options["verify"]:
                result = verify_backup(src=dest, snapshot=options["snapshot"], progress=progress)
                self._end(show)
                return self._verified(result, options["json"])
            entry = backup(
                dest=dest,
                medium=options["medium"],
                location=options["location"],
                operator=options["operator"],
                verify=not options["no_verify"],
                progress=progress,
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        self._end(show)
        summary = {
            "snapshot": entry.snapshot,
            "destination": entry.destination,
            "database": entry.database_engine,
            "records": entry.records,
            "blobs": entry.blobs,
            "blobs_copied": entry.blobs_copied,
            "size": entry.size,
            "total_size": entry.total_size,
            "seconds": entry.seconds,
            "manifest_sha256": entry.manifest_sha256,
            "complete": entry.complete,
            "problems": entry.problems,
            "verified_ok": entry.verified_ok,
        }
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
        else:
            self.stdout.write(
                _(
                    "Snapshot %(snapshot)s in %(dest)s: %(records)d records, %(blobs)d blobs "
                    "(%(copied)d copied), %(mb).1f MB written in %(seconds).1f s."
                )
                % {
                    "snapshot": entry.snapshot,
                    "dest": entry.destination,
                    "records": entry.records,
                    "blobs": entry.blobs,
                    "copied": entry.blobs_copied,
                    "mb": entry.size / 1e6,
                    "seconds": entry.seconds,
                }
            )
            if entry.verified_ok:
                self.stdout.write(_("Read back and found whole."))
        if not entry.complete or entry.verified_ok is False:
            raise CommandError(
                _("The backup is not whole: %(problems)s") % {"problems": entry.problems}
            )

    def _verified(self, result, as_json):
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        elif not result["problems"]:
            self.stdout.write(_("Snapshot %(s)s is whole.") % {"s": result["snapshot"]})
        if result["problems"]:
            for problem in result["problems"]:
                self.stderr.write(f"{problem.get('file')}: {problem['problem']}")
            raise CommandError(_("The backup is not whole."))

    def _end(self, show):
        if show:
            self.stderr.write("")

    def _progress(self, stage, done, total):
        self.stderr.write(f"\r{stage}: {done:,} / {total:,}", ending="")
        self.stderr.flush()
