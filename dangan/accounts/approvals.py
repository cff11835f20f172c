"""Approval steps (审批步骤): one mechanism for every kind of request the county approves in steps.

The system administrator sets, per kind, a sequence of roles (``ApprovalFlow``: copy requests,
destruction lists, opening reviews). A request of that kind then waits for each step in order;
a step is taken by one person who holds that step's role, never the requester, and nobody takes
two steps of one request. Each step taken is kept (``ApprovalStep``), audited on the request,
and shown on its page. Without a flow for a kind, its app keeps today's single step.

The apps call ``take_step`` inside their own transaction, after their own checks (the approver
must see the records), and act when it answers True: the last step was taken.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event

from .models import ApprovalStep
from .selectors import role_label
from .services import approval_steps


def steps_taken(kind: str, subject) -> QuerySet[ApprovalStep]:
    """The steps taken of one request, in order, with their approvers."""
    return ApprovalStep.objects.filter(kind=kind, subject_id=subject.pk).select_related("approver")


def next_step(kind: str, subject) -> tuple[int, str] | None:
    """The step (number from 1, role) that ``subject`` waits for; None with the single step
    or when every step was taken."""
    steps = approval_steps(kind)
    if not steps:
        return None
    done = steps_taken(kind, subject).count()
    return (done + 1, steps[done]) if done < len(steps) else None


def is_turn_of(actor, kind: str, subject, *, requester_id) -> bool:
    """Whether the step ``subject`` waits for is ``actor``'s to take (the page's buttons)."""
    try:
        check_turn(actor, kind, subject, requester_id=requester_id)
    except PermissionDenied:
        return False
    return True


def check_turn(actor, kind: str, subject, *, requester_id) -> tuple[int, str]:
    """The step ``actor`` may take now, or PermissionDenied with the reason."""
    if actor is None or not actor.is_active:
        raise PermissionDenied(_("This step of the approval is not yours."))
    if actor.pk == requester_id:
        raise PermissionDenied(_("Nobody approves their own request."))
    step = next_step(kind, subject)
    if step is None:
        raise PermissionDenied(_("No step of this approval waits."))
    number, role = step
    if actor.role != role:
        raise PermissionDenied(
            _("Step %(n)d of this approval is for the role %(role)s.")
            % {"n": number, "role": role_label(role)}
        )
    if steps_taken(kind, subject).filter(approver=actor).exists():
        raise PermissionDenied(_("One person approves one step only."))
    return step


def take_step(*, actor, kind: str, subject, requester_id, reason: str = "") -> bool:
    """Take the step ``subject`` waits for as ``actor`` (checked), kept and audited on the
    subject; True when it was the last. Call inside the caller's transaction."""
    number, role = check_turn(actor, kind, subject, requester_id=requester_id)
    reason = (reason or "").strip()[:500]
    ApprovalStep.objects.create(
        kind=kind,
        subject_id=subject.pk,
        step=number,
        role=role,
        approver=actor,
        at=timezone.now(),
        reason=reason,
    )
    record_event(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=subject,
        detail={"approval_step": number, "role": role, "reason": reason},
    )
    return number == len(approval_steps(kind))


def shown(kind: str, subject, *, waiting: bool) -> dict:
    """What ``accounts/approval_steps.html`` shows of one request: the steps taken and, while
    it ``waiting``, the step it waits for with the role's name."""
    step = next_step(kind, subject)
    return {
        "approvals": steps_taken(kind, subject),
        "next_step": None if step is None else (step[0], role_label(step[1])),
        "waiting": waiting,
    }
