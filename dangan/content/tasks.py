"""Background work of the content app, through Django's tasks API (a worker runs these)."""

from django_tasks import task


@task()
def fill_sm3_task(blob_ids: list[int]) -> int:
    """Compute the SM3 of blobs just stored (``services.ensure_sm3``); how many were filled.
    A blob removed in the meantime is skipped."""
    from .models import Blob
    from .services import ensure_sm3

    blobs = list(Blob.objects.filter(pk__in=blob_ids).order_by("pk"))
    for blob in blobs:
        ensure_sm3(blob)
    return len(blobs)
