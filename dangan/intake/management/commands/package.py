"""``dangan package``: offline hand-over packages for towns on a poor line.

dangan package keygen --unit T01 town.key          a key for the town; the archive keeps
                                                   its public half
dangan package create LIST_ID --key town.key FILE  write the list as a signed BagIt package
dangan package receive FILE [--json] [--sm3] [--check-only]
                                                   verify signature and fixity; refuse a
                                                   changed package, naming what changed
dangan package keys [--unit T01]                   the registered keys
dangan package revoke FINGERPRINT                  refuse packages signed with that key from
                                                   now on (a lost key, a town moved to SM2)
"""

import json
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from dangan.accounts.models import Unit
from dangan.intake import packages
from dangan.intake.models import HandoverList, SigningKey


class Command(BaseCommand):
    help = "Write, sign and receive offline hand-over packages (BagIt, SM2)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        keygen = sub.add_parser("keygen", help="Create a unit's signing key.")
        keygen.add_argument("file")
        keygen.add_argument("--unit", required=True, help="code of the unit")
        create = sub.add_parser("create", help="Write a hand-over list as a signed package.")
        create.add_argument("list_id", type=int)
        create.add_argument("file")
        create.add_argument("--key", required=True, help="the unit's key file (keygen)")
        keys = sub.add_parser("keys", help="List the registered keys.")
        keys.add_argument("--unit", help="code of the unit")
        revoke = sub.add_parser("revoke", help="Revoke a registered key.")
        revoke.add_argument("fingerprint", help="the key's fingerprint, or its first 16 digits")
        receive = sub.add_parser("receive", help="Check a package and receive it.")
        receive.add_argument("file")
        receive.add_argument("--json", action="store_true", help="print the report as JSON")
        receive.add_argument("--sm3", action="store_true", help="also recompute the SM3 digests")
        receive.add_argument(
            "--check-only", action="store_true", help="check, keep the report, file nothing"
        )

    def handle(self, *args, action, **options):
        return getattr(self, f"_{action}")(**options)

    def _keygen(self, *, file, unit, **options):
        try:
            unit = Unit.objects.get(code=unit)
        except Unit.DoesNotExist:
            raise CommandError(f"No unit with code {unit}") from None
        key = packages.create_key(actor=None, unit=unit, path=file)
        self.stdout.write(f"{file}: SM2 key of {unit.code}, fingerprint {key.fingerprint}")

    def _keys(self, *, unit, **options):
        keys = SigningKey.objects.select_related("unit").order_by("unit__code", "created_at")
        if unit:
            keys = keys.filter(unit__code=unit)
        for key in keys:
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "valid"
            self.stdout.write(
                f"{key.unit.code}  {key.algorithm:8} {key.fingerprint}  "
                f"{key.created_at:%Y-%m-%d}  {state}"
            )

    def _revoke(self, *, fingerprint, **options):
        try:
            key = packages.revoke_key(actor=None, fingerprint=fingerprint)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(f"revoked: {key.unit.code} {key.algorithm} {key.fingerprint}")

    def _create(self, *, list_id, file, key, **options):
        try:
            handover = HandoverList.objects.get(pk=list_id)
        except HandoverList.DoesNotExist:
            raise CommandError(f"No hand-over list {list_id}") from None
        try:
            info = packages.create_package(
                actor=None, handover=handover, key=packages.load_private_key(key), destination=file
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            f"{file}: {info['Dangan-Items']} items, Payload-Oxum {info['Payload-Oxum']}"
        )

    def _receive(self, *, file, json: bool, sm3: bool, check_only: bool, **options):
        try:
            received = packages.receive_package(
                actor=None, source=file, verify_sm3=sm3, file_it=not check_only
            )
        except ValidationError as error:  # not a sound bag (PackageRefused): one line, exit 1
            if json:
                self.stdout.write(_json({"passed": False, "refused": error.messages[0]}))
                sys.exit(1)
            raise CommandError(" ".join(error.messages)) from None
        if json:
            self.stdout.write(_json(received.as_dict()))
        else:
            for o in received.run.outcomes:
                self.stdout.write(f"{o.check_id}  {o.verdict:7}  {o.name}: {o.summary}")
                for line in o.evidence:
                    self.stdout.write(f"            {line}")
            run = received.run
            self.stdout.write(
                f"{'PASSED' if run.passed else 'REFUSED'}: {run.items} items, {run.files} files, "
                f"{run.bytes} bytes in {run.seconds:.2f} s"
                + (f"; list {received.handover.pk}" if received.handover else "")
            )
        if not received.passed:
            sys.exit(1)


def _json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)
