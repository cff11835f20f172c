"""``dangan senders``: the business systems that file by themselves (归档接口), and their day.

dangan senders add NAME --unit CODE      # register; prints the key once
dangan senders list [--json]
dangan senders rotate NAME               # a new key (printed once); the old one stops working
dangan senders disable NAME | enable NAME
dangan senders reconcile [--day YYYY-MM-DD] [--json]   # sent, accepted, returned, waiting
"""

import datetime
import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.accounts.models import Unit
from dangan.intake import filings
from dangan.intake.models import Sender


class Command(BaseCommand):
    help = _("The business systems that file records by themselves, their keys and their day.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help=_("register a sending system and print its key once"))
        add.add_argument("name")
        add.add_argument("--unit", required=True, help=_("code of the unit it files for"))
        listing = sub.add_parser("list", help=_("list the sending systems"))
        listing.add_argument("--json", action="store_true")
        for action, text in (
            ("rotate", _("give a system a new key (printed once)")),
            ("disable", _("refuse a system's key")),
            ("enable", _("accept a system's key again")),
        ):
            sub.add_parser(action, help=text).add_argument("name")
        day = sub.add_parser("reconcile", help=_("what each system sent and what became of it"))
        day.add_argument("--day", help=_("the day, YYYY-MM-DD (default: today)"))
        day.add_argument("--json", action="store_true")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None

    def _add(self, *, name, unit, **options):
        found = Unit.objects.filter(code=unit).first()
        if found is None:
            raise CommandError(_("There is no unit “%(code)s”.") % {"code": unit})
        sender, key = filings.add_sender(actor=None, name=name, unit=found)
        self.stderr.write(
            _("Sending system %(name)s for %(unit)s. Its key, shown only now:")
            % {"name": sender.name, "unit": found.name}
        )
        self.stdout.write(key)

    def _rotate(self, *, name, **options):
        sender = filings.find_sender(name)
        key = filings.rotate_key(actor=None, sender=sender)
        self.stderr.write(
            _("New key of %(name)s, shown only now; the old one no longer works:")
            % {"name": sender.name}
        )
        self.stdout.write(key)

    def _disable(self, *, name, **options):
        sender = filings.set_active(actor=None, sender=filings.find_sender(name), active=False)
        self.stdout.write(_("%(name)s is disabled: its key is refused.") % {"name": sender.name})

    def _enable(self, *, name, **options):
        sender = filings.set_active(actor=None, sender=filings.find_sender(name), active=True)
        self.stdout.write(_("%(name)s is enabled again.") % {"name": sender.name})

    def _list(self, *, json: bool = False, **options):
        rows = [
            {
                "name": s.name,
                "unit": s.unit.code,
                "active": s.active,
                "key_begins": filings.KEY_START + s.key_prefix,
                "registered": s.created_at.isoformat(),
                "key_made": s.key_changed_at.isoformat(),
            }
            for s in Sender.objects.select_related("unit")
        ]
        if json:
            self._print_json(rows)
            return
        for row in rows:
            state = _("active") if row["active"] else _("disabled")
            self.stdout.write(f"{row['name']}\t{row['unit']}\t{row['key_begins']}…\t{state}")

    def _reconcile(self, *, day=None, json: bool = False, **options):
        if day:
            try:
                when = datetime.date.fromisoformat(day)
            except ValueError:
                message = _("Give the day as YYYY-MM-DD, not “%(day)s”.") % {"day": day}
                raise CommandError(message) from None
        else:
            when = timezone.localdate()
        rows = [
            {k: v for k, v in row.items() if k not in ("sender_pk", "unit_name")}
            for row in filings.reconcile(when)
        ]
        if json:
            self._print_json(rows)
            return
        self.stdout.write(
            "\t".join(
                [_("System"), _("Unit"), _("Sent"), _("Accepted"), _("Returned"), _("Waiting")]
            )
        )
        for r in rows:
            self.stdout.write(
                f"{r['sender']}\t{r['unit']}\t{r['sent']}\t{r['accepted']}\t{r['returned']}\t{r['waiting']}"
            )

    def _print_json(self, value):
        self.stdout.write(json.dumps(value, ensure_ascii=False, indent=2))
