"""``dangan restore SRC``: bring a backup up as this instance (an empty database and data folder).

    DANGAN_DATA_DIR=/srv/dangan-new dangan restore /mnt/usb-backup
    dangan restore /mnt/usb-backup --snapshot 20261125T031500Z --json

Every file is checked against the manifest before anything is written; afterwards run
``dangan verify``.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dangan.integrity.backups import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup made by `dangan backup` into the configured empty instance."

    def add_arguments(self, parser):
        parser.add_argument("src", help="the backup folder (or one snapshot's folder)")
        parser.add_argument("--snapshot", default="", help="which snapshot (default: newest)")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args, src, snapshot, **options):
        show = sys.stderr.isatty() and not options["json"]
        try:
            summary = restore(src=src, snapshot=snapshot, progress=self._progress if show else None)
        except BackupError as error:
            raise CommandError(str(error)) from error
        if show:
            self.stderr.write("")
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        self.stdout.write(
            _(
                "Restored snapshot %(snapshot)s: %(records)s records, %(pages)s pages, "
                "%(blobs)s blobs, %(files)s data files in %(seconds).1f s. Now run `dangan verify`."
            )
            % {
                "snapshot": summary["snapshot"],
                "records": summary["counts"].get("records"),
                "pages": summary["counts"].get("pages"),
                "blobs": summary["blobs"],
                "files": summary["data_files"],
                "seconds": summary["seconds"],
            }
        )

    def _progress(self, stage, done, total):
        self.stderr.write(f"\r{stage}: {done:,} / {total:,}", ending="")
        self.stderr.flush()
