"""Background work of the integrity app, through Django's tasks API (``dangan run``'s worker)."""

from django_tasks import task


@task()
def fixity_round_task() -> dict:
    """One round of the rolling fixity audit; then the next round is put in the queue."""
    from .fixity import ensure_scheduled, run_fixity

    try:
        run, _progress = run_fixity(trigger="schedule")
    finally:
        ensure_scheduled(from_round=True)
    return {"run": run.pk, "blobs": run.blobs, "bytes": run.bytes, "failures": run.failures}
