"""The worker's weekly round of smart help: the classifier trained again on the grown catalogue,
and a duplicate scan; then the next round is put in the queue (``DANGAN_ASSIST_ROUND_DAYS``)."""

import datetime

from django.conf import settings
from django.utils import timezone
from django_tasks import task

ROUND_TASK = "dangan.assist.tasks.assist_round_task"


@task()
def assist_round_task() -> dict:
    from . import classifier, services

    try:
        model = classifier.train()
        found = services.scan_duplicates()
    finally:
        ensure_scheduled(from_round=True)
    return {"samples": model.samples, "duplicates": {k: v["new"] for k, v in found.items()}}


def ensure_scheduled(*, from_round: bool = False) -> bool:
    """Enqueue the next round unless one is waiting (or running, unless this is that round);
    True when enqueued. Called after every ``migrate`` (``dangan run`` migrates at each start)
    and at the end of each round."""
    from dangan.jobs.rounds import schedule_round

    days = settings.DANGAN_ASSIST_ROUND_DAYS
    if not days:
        return False
    # At a start, the first round an hour later (the server and its first work first).
    wait = datetime.timedelta(days=days) if from_round else datetime.timedelta(hours=1)
    return schedule_round(assist_round_task, run_after=timezone.now() + wait, from_round=from_round)


def schedule_after_migrate(*, using="default", **kwargs) -> None:
    """``post_migrate``: make sure a round of smart help is waiting for the worker."""
    if using == "default":
        ensure_scheduled()
