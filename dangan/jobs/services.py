"""Starting, running and retrying background jobs (see ``models.Job``, ``registry``)."""

import logging
import os
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event

from . import registry
from .models import Job

log = logging.getLogger(__name__)

#: A job whose worker stopped is run again at most this many times in all.
MAX_ATTEMPTS = 3
#: Progress is written at most this often (seconds): a builder may report every row.
PROGRESS_EVERY = 1.0


def result_path(job: Job) -> Path:
    """Where the job's result is kept once whole."""
    return Path(settings.DATA_DIR) / "jobs" / f"{job.pk}{registry.kind(job.kind).suffix}"


def start_job(
    *, kind: str, owner, title: str, params: dict | None = None, shown_params: dict | None = None
) -> Job:
    """Queue a job of a registered ``kind`` for ``owner``; the worker runs it after commit.

    ``shown_params``: what the audit trail keeps of ``params`` when they hold what it must not
    (a search by ID number, kept masked there); default ``params``."""
    registry.kind(kind)  # a kind nobody registered is a programming error: fail here, loudly
    with transaction.atomic():
        job = Job.objects.create(kind=kind, owner=owner, title=title[:200], params=params or {})
        record_event(
            actor=owner,
            action=AuditEvent.Action.CREATE,
            obj=job,
            detail={"kind": kind, "params": job.params if shown_params is None else shown_params},
        )
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from .tasks import run_job_task

    result = run_job_task.enqueue(job_id)
    Job.objects.filter(pk=job_id).update(task_id=str(result.id))


def run_job(job_id: int) -> str:
    """Run the job ``job_id`` here and now (the worker's task); its state after."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return "gone"
        if job.is_finished:
            return job.state
        now = timezone.now()
        job.state, job.attempts, job.started_at, job.heartbeat_at = (
            Job.State.RUNNING,
            job.attempts + 1,
            now,
            now,
        )
        job.done = 0
        job.save(update_fields=["state", "attempts", "started_at", "heartbeat_at", "done"])
    try:
        kind = registry.kind(job.kind)
    except LookupError:
        return _fail(job, _("This kind of work is not known here (%(kind)s).") % {"kind": job.kind})
    final = result_path(job)
    part = final.with_name(final.name + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    final.unlink(missing_ok=True)  # a file of an earlier run is never offered as this one's
    try:
        with open(part, "wb") as out:
            kind.build(job, out, _progress_of(job))
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, final)
    except ValidationError as error:
        part.unlink(missing_ok=True)
        return _fail(job, " ".join(error.messages))
    except Exception:
        part.unlink(missing_ok=True)
        log.exception("background job %s (%s) failed", job.pk, job.kind)
        return _fail(job, _("The work stopped on an error; the administrator finds it in the log."))
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.DONE,
        size=final.stat().st_size,
        file_name=_file_name(job, kind),
        finished_at=timezone.now(),
        message="",
    )
    return Job.State.DONE


def _file_name(job: Job, kind) -> str:
    stem = "".join(c for c in job.title if c not in '\\/:*?"<>|\r\n').strip() or job.kind
    return f"{stem[:120]}{kind.suffix}"


def _fail(job: Job, message: str) -> str:
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.FAILED, message=message[:500], finished_at=timezone.now()
    )
    return Job.State.FAILED


def _progress_of(job: Job):
    """``progress(done, total)`` for the builder, written at most once a ``PROGRESS_EVERY``."""
    last = [0.0]

    def progress(done: int, total: int | None = None) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY and (total is None or done < total):
            return
        last[0] = now
        fields = {"done": max(0, int(done)), "heartbeat_at": timezone.now()}
        if total is not None:
            fields["total"] = max(0, int(total))
        Job.objects.filter(pk=job.pk).update(**fields)

    return progress


def retry_stopped(*, task_ids) -> list[int]:
    """Jobs whose task was cut off with its worker (``ops.stopped_workers`` names the tasks):
    queued again, or failed with the reason after ``MAX_ATTEMPTS``; their ids."""
    ids = []
    for job in Job.objects.filter(task_id__in=[str(t) for t in task_ids], state=Job.State.RUNNING):
        part = result_path(job).with_name(result_path(job).name + ".part")
        part.unlink(missing_ok=True)
        if job.attempts >= MAX_ATTEMPTS:
            _fail(
                job,
                _("The worker stopped %(n)d times while doing this work.") % {"n": job.attempts},
            )
        else:
            Job.objects.filter(pk=job.pk).update(state=Job.State.QUEUED, done=0)
            _enqueue(job.pk)
        ids.append(job.pk)
    return ids


def record_download(*, actor, job: Job) -> None:
    """Audit that ``actor`` took the result of ``job``."""
    record_event(
        actor=actor,
        action=AuditEvent.Action.DOWNLOAD,
        obj=job,
        detail={"kind": job.kind, "file": job.file_name, "size": job.size},
    )


def prune_expired() -> int:
    """Remove the jobs (and their files) finished more than ``DANGAN_JOB_KEEP_DAYS`` ago; the
    worker's daily sweep calls it."""
    before = timezone.now() - timedelta(days=settings.DANGAN_JOB_KEEP_DAYS)
    old = list(Job.objects.filter(finished_at__lt=before))
    for job in old:
        try:
            result_path(job).unlink(missing_ok=True)
        except LookupError:  # its kind is gone with an app: the row still goes
            pass
    Job.objects.filter(pk__in=[job.pk for job in old]).delete()
    return len(old)
