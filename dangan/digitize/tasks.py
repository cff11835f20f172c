"""Background work of the pipeline, through Django's tasks API (a worker runs these)."""

from django_tasks import task

from . import services


@task()
def process_page_task(processing_id: int) -> str | None:
    return services.process_page(processing_id)


@task()
def ingest_folder_task(batch_id: int) -> dict:
    from .ingest import run_batch

    return run_batch(batch_id)
