"""``dangan worker``: run the background work (OCR, checks, indexing) on this machine.

Start as many as the machines allow, on any machine that reaches the database, the queue
and the content store. Each takes one task at a time from the queue (the database, or Redis
with ``DANGAN_TASKS=rq``). Beside that, every ``--sweep-seconds`` it gives back the pages of
workers that died (``digitize.services.release_expired``): a page is claimed by one worker
with a lease, and a page whose lease ran out is queued again — read once, never lost. And
every ``DANGAN_REMOTE_SEND_SECONDS`` it sends the messages waiting for peer installations
(``remote.outbox.send_due``: remote requests, answers, certificates). At its start and at each
sweep, task rows left running by a dead worker of this machine are marked failed with the reason
(``ops.stopped_workers``); background jobs whose worker stopped are run again
(``jobs.services.retry_stopped``) and certified copies that failed are tried again a few times
(``access.services.retry_failed_copies``); and once a day the log-in records older than
``DANGAN_LOGIN_LOG_KEEP_DAYS`` are pruned (``accounts.lockout.prune_login_log``, audited) and
yesterday's reconciliation of the sending systems is kept (``intake.filings.keep_yesterday``).
"""

import logging
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connections
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)


#: The log-in records and old job results are pruned once a day (by each worker: a second
#: pruning finds nothing), and yesterday's reconciliation is kept (a second run replaces it).
PRUNE_EVERY = 24 * 3600


def sweep_forever(stop: threading.Event, every: float) -> None:
    from dangan.access.services import retry_failed_copies
    from dangan.accounts.lockout import prune_login_log
    from dangan.digitize.services import release_expired
    from dangan.intake.filings import keep_yesterday
    from dangan.jobs.services import prune_expired, retry_stopped
    from dangan.ops.stopped_workers import fail_orphaned_tasks

    pruned_at = 0.0
    while not stop.wait(every):
        close_old_connections()
        try:
            release_expired()
            stopped = fail_orphaned_tasks()
            retry_stopped(task_ids=stopped)
            retry_failed_copies(stopped_task_ids=stopped)  # certified copies that failed
            if time.monotonic() - pruned_at >= PRUNE_EVERY or not pruned_at:
                prune_login_log(actor=None)
                prune_expired()  # background jobs' results past DANGAN_JOB_KEEP_DAYS
                keep_yesterday()  # the business systems' daily reconciliation (归档接口)
                pruned_at = time.monotonic()
        except Exception:  # the database away for a moment: try again at the next sweep
            log.exception("the sweep for stopped workers failed")
    connections.close_all()


def send_outbox_forever(stop: threading.Event, every: float) -> None:
    """Send the remote requests' outbox (``dangan.remote``): messages to peer installations."""
    from dangan.remote.outbox import send_due

    while not stop.wait(every):
        close_old_connections()
        try:
            send_due()
        except Exception:  # the database away for a moment: try again at the next round
            log.exception("sending the remote outbox failed")
    connections.close_all()


class Command(BaseCommand):
    help = _("Run background tasks (OCR, checks, indexing) here; start one per CPU on any machine.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--queue", default="default", help=_("queue to take tasks from; * for every queue")
        )
        parser.add_argument(
            "--sweep-seconds",
            type=float,
            default=60.0,
            help=_("how often to look for pages held by stopped workers"),
        )
        parser.add_argument("--burst", action="store_true", help=_("stop when the queue is empty"))

    def handle(self, *args, queue, sweep_seconds, burst, **options):
        from dangan.access.services import retry_failed_copies
        from dangan.jobs.services import retry_stopped
        from dangan.ops.stopped_workers import fail_orphaned_tasks, worker_id

        stopped = fail_orphaned_tasks()
        for task in stopped:
            self.stderr.write(
                _("Task %(id)s: its worker had stopped; marked failed.") % {"id": task}
            )
        retry_stopped(task_ids=stopped)
        retry_failed_copies(stopped_task_ids=stopped)
        stop = threading.Event()
        sweeper = threading.Thread(
            target=sweep_forever, args=(stop, sweep_seconds), name="sweeper", daemon=True
        )
        sweeper.start()
        sender = threading.Thread(
            target=send_outbox_forever,
            args=(stop, settings.DANGAN_REMOTE_SEND_SECONDS),
            name="remote-outbox",
            daemon=True,
        )
        sender.start()
        try:
            if settings.TASKS["default"]["BACKEND"].startswith("django_tasks_rq"):
                queues = list(settings.RQ_QUEUES) if queue == "*" else [queue]
                call_command(
                    "rqworker",
                    *queues,
                    job_class="django_tasks_rq.Job",
                    burst=burst,
                    with_scheduler=True,
                )
            else:
                call_command("db_worker", queue_name=queue, batch=burst, worker_id=worker_id())
        finally:
            stop.set()
