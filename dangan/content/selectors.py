"""Reading content, always through the records the user may see (``visible_records``)."""

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from dangan.accounts.selectors import may_write_record
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.models import Record
from dangan.catalogue.selectors import visible_records

from .models import Blob, Page
from .signals import blob_unreadable
from .stores import get_store

#: What the file picker offers; the server decides by content, whatever the name says.
ACCEPT = (
    ".tif,.tiff,.jpg,.jpeg,.jp2,.j2k,.png,.pdf,.ofd,.wav,.mp3,.mp4,"
    ".docx,.doc,.xlsx,.xls,.pptx,.ppt,.wps,.et,.odt,.ods,.odp,.rtf"
)


def record_pages(user, record) -> QuerySet[Page]:
    """The original pages of a record, in page order; none if the record is not visible."""
    return (
        Page.objects.filter(
            record__in=visible_records(user), record=record, role=Page.Role.ORIGINAL
        )
        .select_related("blob", "processing")
        .prefetch_related(
            Prefetch(
                "derivatives",
                queryset=Page.objects.filter(role=Page.Role.RENDITION).select_related("blob"),
                to_attr="renditions",
            ),
            "events",
        )
        .order_by("position")
    )


def record_files_context(user, record: Record) -> dict:
    """What the ``content/record_files.html`` fragment shows for ``record``."""
    return {
        "record": record,
        "pages": list(record_pages(user, record)),
        "may_upload": may_write_record(user, record),
        "accept": ACCEPT,
    }


class BlobUnreadable(OSError):
    """A kept file that cannot be read: missing from the store or damaged. The storage alert is
    raised when this is; ``content.middleware`` answers the reader with a clear page."""


def open_blob(blob: Blob):
    """The blob's bytes as a stream (``read(n)``, ``close()``), never loaded whole;
    ``BlobUnreadable`` (with the alert raised) when the store cannot give them."""
    try:
        return get_store().open(blob.key)
    except Exception as error:
        blob_unreadable.send(sender=Blob, blob=blob, error=error)
        raise BlobUnreadable(
            _(
                "The stored file %(sha)s cannot be read: it is missing or damaged. The system "
                "administrator has been alerted; it can be restored from a backup."
            )
            % {"sha": blob.sha256[:12]}
        ) from error


def download_page(user, pk) -> tuple[Page, object]:
    """A page the user may see and its opened content, the download audited;
    ``Page.DoesNotExist`` otherwise (callers answer 404)."""
    page = Page.objects.select_related("blob", "record").get(
        pk=pk, record__in=visible_records(user)
    )
    stream = open_blob(page.blob)
    record_event(
        actor=user,
        action=AuditEvent.Action.DOWNLOAD,
        obj=page.record,
        detail={
            "page": page.pk,
            "filename": page.filename,
            "sha256": page.blob.sha256,
        },
    )
    return page, stream
