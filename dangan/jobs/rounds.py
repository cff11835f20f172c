"""Rounds that keep themselves going in the worker (the fixity audit, smart help): each round,
at its end, puts the next one in the queue, and every start (``dangan run`` migrates, and
``post_migrate`` asks) makes sure one is waiting. One waiting round per task, whichever queue
runs it — the database's (``DANGAN_TASKS=db``) or Redis's (``DANGAN_TASKS=rq``): a second one
would start a second chain, and every round would then be done (and written) twice.
"""

import contextlib

from django.conf import settings


def schedule_round(task, *, run_after, from_round: bool = False) -> bool:
    """Enqueue ``task`` to run at ``run_after`` unless a round of it is waiting (or running,
    unless this is called by that round itself); True when enqueued. Nothing with a backend
    that cannot run a task later (the immediate one would run rounds back to back)."""
    from django_tasks import default_task_backend

    if not default_task_backend.supports_defer:
        return False
    path = task.module_path
    backend = settings.TASKS["default"]["BACKEND"]
    if backend.startswith("django_tasks_rq"):
        import django_rq

        queue = django_rq.get_queue(task.queue_name)
        # Two starts at once (two web servers) look and enqueue one after the other.
        lock = queue.connection.lock(f"dangan:round:{path}", timeout=60, blocking_timeout=60)
        waiting = _waiting_in_redis
    else:
        queue, lock, waiting = None, contextlib.nullcontext(), _waiting_in_database
    with lock:
        if waiting(queue, path, from_round):
            return False
        task.using(run_after=run_after).enqueue()
    return True


def _waiting_in_database(_queue, path: str, from_round: bool) -> bool:
    if not settings.TASKS["default"]["BACKEND"].startswith("django_tasks_db"):
        return False
    from django_tasks_db.models import DBTaskResult

    statuses = ["READY"] if from_round else ["READY", "RUNNING"]
    return DBTaskResult.objects.filter(task_path=path, status__in=statuses).exists()


def _waiting_in_redis(queue, path: str, from_round: bool) -> bool:
    ids = queue.scheduled_job_registry.get_job_ids() + queue.get_job_ids()
    if not from_round:
        ids += queue.started_job_registry.get_job_ids()
    jobs = queue.job_class.fetch_many(ids, connection=queue.connection)
    return any(job is not None and job.func_name == path for job in jobs)
