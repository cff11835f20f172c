"""``dangan content rekey``: key rotation of the encrypted content store (docs/security.md).

dangan content rekey              wrap every data key with the current key (first in the file)
dangan content rekey --new-key    first put a new key at the top of the key file
dangan content rekey --drop-old   afterwards keep only the current key (when nothing failed)
dangan content rekey --json       the summary as one JSON object on stdout
"""

import json
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dangan.content import encryption
from dangan.content.services import rekey_store
from dangan.content.stores import get_store


class Command(BaseCommand):
    help = "Content store tasks: 'rekey' re-wraps every blob's data key with the current KEK."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="task", required=True)
        rekey = sub.add_parser("rekey", help="wrap every data key with the current key")
        rekey.add_argument("--new-key", action="store_true", help="add a new current key first")
        rekey.add_argument(
            "--drop-old", action="store_true", help="remove the older keys when all went well"
        )
        rekey.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args, task, **options):
        as_json = options["json"]
        if options["new_key"]:
            path = encryption.add_kek(encryption.new_kek_text())
            get_store.cache_clear()
            if not as_json:
                self.stdout.write(_("A new key is first in %(path)s.") % {"path": path})
        show = sys.stderr.isatty() and not as_json
        try:
            summary = rekey_store(
                progress=self._progress if show else None, drop_old=options["drop_old"]
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        if show:
            sys.stderr.write("\n")
        if as_json:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
        else:
            self.stdout.write(
                _(
                    "%(blobs)d blobs: %(rewrapped)d re-wrapped, %(encrypted)d encrypted, "
                    "%(current)d already under key %(kek)s, %(missing)d missing, "
                    "%(failed)d failed."
                )
                % summary
            )
            for problem in summary["problems"]:
                self.stdout.write(f"  {problem['blob']}: {problem['problem']}")
            if summary["old_keys_dropped"]:
                self.stdout.write(_("The older keys were removed from the key file."))
        if summary["failed"]:
            raise CommandError(_("Some blobs could not be re-wrapped; see above."))

    def _progress(self, done, total):
        sys.stderr.write(f"\r{done}/{total}")
        sys.stderr.flush()
