"""The backup-media register (``BackupRecord``): where each medium is kept, edited at
/storage/backups/ by who handles the storage alerts, audited."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event

from ..models import BackupRecord


def update_backup_medium(*, actor, entry: BackupRecord, location: str, note: str) -> BackupRecord:
    """Record where a backup medium is now kept (taken off site, back in the safe) and a note."""
    from ..alerts import may_handle_alerts

    if not may_handle_alerts(actor):
        raise PermissionDenied(_("You may not change the backup-media register."))
    with transaction.atomic():
        entry = BackupRecord.objects.select_for_update().get(pk=entry.pk)
        before = {"location": entry.location, "note": entry.note}
        entry.location, entry.note = location.strip()[:200], note.strip()
        entry.save(update_fields=["location", "note"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=entry,
            before=before,
            after={"location": entry.location, "note": entry.note},
        )
    return entry
