"""``dangan prune-audit --older-than DAYS``: remove old entries of the audit trail (never
younger than 180 days), keeping the chain verifiable from an anchor."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dangan.audit.services import MIN_RETENTION_DAYS, prune


class Command(BaseCommand):
    help = _("Remove audit entries older than the given number of days (at least 180).")

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            required=True,
            metavar="DAYS",
            help=_("age in days; at least %(days)d") % {"days": MIN_RETENTION_DAYS},
        )

    def handle(self, *args, older_than, **options):
        try:
            removed = prune(actor=None, older_than_days=older_than)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(_("%(count)d entries removed.") % {"count": removed})
