"""A task row left RUNNING by a worker that died is marked failed with the reason when a worker
starts on that machine; a live worker's task and another machine's are left alone."""

import subprocess
import sys

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from dangan.ops.stopped_workers import fail_orphaned_tasks, worker_id


def running(worker: str) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="dangan.integrity.tasks.fixity_round",
        queue_name="default",
        backend_name="default",
        run_after=timezone.now(),
        started_at=timezone.now(),
        worker_ids=[worker],
    )


@pytest.mark.django_db
def test_a_dead_workers_task_is_marked_failed_with_the_reason(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = running(worker_id(int(finished.stdout)))
    alive = running(worker_id())
    elsewhere = running("another-machine:12345")

    assert fail_orphaned_tasks() == [str(dead.pk)]

    dead.refresh_from_db()
    assert dead.status == TaskResultStatus.FAILED and dead.finished_at is not None
    assert dead.exception_class_path == "dangan.ops.stopped_workers.WorkerStopped"
    assert "stopped while running dangan.integrity.tasks.fixity_round" in dead.traceback
    for other in (alive, elsewhere):
        other.refresh_from_db()
        assert other.status == TaskResultStatus.RUNNING
    assert fail_orphaned_tasks() == []  # once
