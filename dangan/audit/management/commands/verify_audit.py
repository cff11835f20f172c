"""``dangan verify-audit``: check the audit trail's hash chain; exit 1 when it is broken."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dangan.audit.models import AuditEvent
from dangan.audit.services import verify_chain


class Command(BaseCommand):
    help = _("Check that no entry of the audit trail was changed or removed behind Dangan's back.")

    def handle(self, *args, **options):
        broken = verify_chain()
        total = AuditEvent.objects.count()
        if broken:
            shown = ", ".join(str(n) for n in broken[:50])
            raise CommandError(
                _("The audit trail is broken: %(count)d of %(total)d entries do not match: %(ids)s")
                % {"count": len(broken), "total": total, "ids": shown}
            )
        self.stdout.write(
            self.style.SUCCESS(_("The audit trail is whole: %(total)d entries.") % {"total": total})
        )
