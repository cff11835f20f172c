"""The worker's side of background jobs."""

from django_tasks import task


@task()
def run_job_task(job_id: int) -> str:
    from .services import run_job

    return run_job(job_id)
