"""``dangan peers``: this installation's key, and the peer installations it exchanges with.

dangan peers key [--json]                  # code, name and SM2 public key (PEM) to hand over
dangan peers add CODE NAME URL KEYFILE     # register a peer with the key file it handed over
dangan peers list [--json]
"""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dangan.remote import keys, selectors, services
from dangan.security import sm2


class Command(BaseCommand):
    help = _("This installation's signing key and its peer installations (remote access).")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        key = sub.add_parser("key", help=_("print this installation's code, name and public key"))
        key.add_argument("--json", action="store_true")
        add = sub.add_parser("add", help=_("register a peer installation"))
        add.add_argument("code")
        add.add_argument("name")
        add.add_argument("url")
        add.add_argument("keyfile")
        listing = sub.add_parser("list", help=_("list the peer installations"))
        listing.add_argument("--json", action="store_true")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _key(self, *, json: bool = False, **options):
        public = keys.public_key()
        if json:
            self._print_json(
                {"code": keys.code(), "name": keys.name(), "public_key": keys.pem(public)}
            )
            return
        self.stdout.write(f"# {keys.code()} {keys.name()}\n# SM2 {sm2.fingerprint(public)}")
        self.stdout.write(keys.pem(public), ending="")

    def _add(self, *, code, name, url, keyfile, **options):
        try:
            text = Path(keyfile).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            message = _("Cannot read %(file)s: %(error)s") % {"file": keyfile, "error": exc}
            raise CommandError(message) from None
        try:
            peer = services.add_peer(actor=None, code=code, name=name, base_url=url, key_text=text)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(
            _("Peer %(code)s %(name)s at %(url)s, key %(fp)s.")
            % {
                "code": peer.code,
                "name": peer.name,
                "url": peer.base_url,
                "fp": sm2.fingerprint(peer.public_key)[:16],
            }
        )

    def _list(self, *, json: bool = False, **options):
        rows = [
            {
                "code": p.code,
                "name": p.name,
                "url": p.base_url,
                "key_fingerprint": sm2.fingerprint(p.public_key),
                "waiting": p.waiting,
            }
            for p in selectors.peers()
        ]
        if json:
            self._print_json(rows)
            return
        for row in rows:
            self.stdout.write(
                f"{row['code']}\t{row['name']}\t{row['url']}\t{row['key_fingerprint'][:16]}\t"
                + _("%(n)d waiting") % {"n": row["waiting"]}
            )

    def _print_json(self, value):
        self.stdout.write(json.dumps(value, ensure_ascii=False, indent=2))
