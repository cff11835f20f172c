"""Task rows left ``RUNNING`` by a worker that died (a killed process, a machine that lost
power): found when a worker starts and at each sweep, and marked failed with the reason.

A worker started by ``dangan worker`` (database queue) is named ``<host>:<pid>``, so a worker
on the same machine can tell whether the one that claimed a row is still alive. Rows of
workers on other machines are left to those machines' workers. They are marked failed, not run
again: a task cut off half-way may have written part of its work (a ledger entry, a fixity
finding), and running it twice could write it twice; the failure and its reason show in the
task list, and the periodic work (fixity rounds) queues its next run anyway.
"""

import logging
import os
import socket

from django.utils import timezone

log = logging.getLogger(__name__)


class WorkerStopped(Exception):
    """The worker running the task stopped before the task ended."""


def worker_id(pid: int | None = None) -> str:
    """This process's worker id: ``<host>:<pid>`` (at most 64 characters)."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()[:50]}:{pid}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def fail_orphaned_tasks() -> list[str]:
    """Mark the tasks ``RUNNING`` under a dead worker of this machine as failed, with the
    reason; their ids."""
    from django.conf import settings

    if not settings.TASKS["default"]["BACKEND"].startswith("django_tasks_db"):
        return []
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    host = socket.gethostname()[:50]
    failed = []
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).only(
        "id", "worker_ids", "task_path", "started_at"
    )
    for result in running:
        last = (result.worker_ids or [""])[-1]
        name, _sep, pid = last.rpartition(":")
        if name != host or not pid.isdigit() or _alive(int(pid)):
            continue
        reason = (
            f"The worker {last} stopped while running {result.task_path} (started "
            f"{result.started_at:%Y-%m-%d %H:%M:%S} UTC); found by worker {worker_id()}. "
            "Not run again: it may have done part of its work."
        )
        updated = DBTaskResult.objects.filter(
            pk=result.pk, status=TaskResultStatus.RUNNING, worker_ids=result.worker_ids
        ).update(
            status=TaskResultStatus.FAILED,
            finished_at=timezone.now(),
            exception_class_path=f"{__name__}.{WorkerStopped.__qualname__}",
            traceback=f"{__name__}.WorkerStopped: {reason}\n",
        )
        if updated:
            log.warning("task %s: %s", result.pk, reason)
            failed.append(str(result.pk))
    return failed
