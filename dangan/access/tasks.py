"""Background work of the access app, through Django's tasks API (``dangan run``'s worker)."""

from django_tasks import task


@task()
def deliver_copy_task(request_id: int, actor_id: int | None = None) -> str:
    """Make the certified copy of an approved request (``services.deliver_copy``)."""
    from dangan.accounts.models import User

    from .services import deliver_copy

    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    return deliver_copy(request_id=request_id, actor=actor).state
