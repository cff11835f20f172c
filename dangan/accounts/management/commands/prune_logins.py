"""``dangan prune-logins [--older-than DAYS]``: remove the failed log-ins and log-ins older than
``DANGAN_LOGIN_LOG_KEEP_DAYS`` (never younger than 180 days), audited; ``dangan worker`` does
it each day by itself."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dangan.accounts.lockout import prune_login_log
from dangan.audit.services import MIN_RETENTION_DAYS


class Command(BaseCommand):
    help = _("Remove failed log-ins and log-ins older than the days kept (at least 180).")

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            metavar="DAYS",
            help=_("age in days; at least %(days)d") % {"days": MIN_RETENTION_DAYS},
        )

    def handle(self, *args, older_than=None, **options):
        try:
            removed = prune_login_log(actor=None, older_than_days=older_than)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            _("%(failed)d failed log-ins and %(logins)d log-ins removed.")
            % {"failed": removed["failed_logins"], "logins": removed["logins"]}
        )
