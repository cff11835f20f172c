"""Writing the use of records: visits, loans, access requests, certified copies.

Every function checks the actor's right to the record through ``visible_records`` (a record a
clerk cannot see does not exist for them), writes in one transaction, and appends the audit
event (and, for a certificate, the ledger entry) in that same transaction.
"""

import datetime
import hashlib
import logging

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangan.accounts import approvals
from dangan.accounts.models import ApprovalFlow, Role, Secrecy
from dangan.accounts.services import approval_steps
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.models import Openness, Record
from dangan.catalogue.selectors import visible_records
from dangan.content.services import keep_bytes
from dangan.people import id_numbers
from dangan.security.permissions import has_permission

from . import certificates, copies, outputs, selectors
from .models import (
    AccessRequest,
    Certificate,
    Counter,
    Loan,
    Outcome,
    Purpose,
    Use,
    Visit,
)

logger = logging.getLogger(__name__)


def may_decide_requests(user) -> bool:
    """Who decides access requests (and revokes certificates): the roles of the county's approval
    steps when it set some, else archivists and leaders. ``may_decide`` says whether it is the
    user's turn on one request."""
    steps = approval_steps(ApprovalFlow.Kind.COPY_REQUEST)
    if steps:
        return bool(user and user.is_authenticated and user.is_active and user.role in steps)
    return has_permission(user, "access.approve")


def may_serve(user) -> bool:
    """Who receives visitors, lends files and issues copies (archivists and reading-room
    clerks by default)."""
    return has_permission(user, "access.serve")


DELIVERY_SALT = "dangan.access.delivery"


def _require_desk(actor):
    if not may_serve(actor):
        raise PermissionDenied(_("Only archivists and reading-room clerks serve the reading room."))


def _visible(actor, records) -> list[Record]:
    """``records`` (ids or records) as the actor may see them, or ValidationError."""
    ids = {getattr(r, "pk", r) for r in records}
    found = list(visible_records(actor).filter(pk__in=ids).exclude(state=Record.State.DESTROYED))
    if len(found) != len(ids):
        raise ValidationError(_("No such record."), code="no_such_record")
    return found


def _next_number(series: str) -> str:
    """The next number of ``series`` this year (``LY2026-000012``), gap-free like archival codes."""
    year = timezone.localdate().year
    key = f"{series}{year}"
    Counter.objects.get_or_create(series=key)
    Counter.objects.filter(series=key).update(last=F("last") + 1)
    last = Counter.objects.get(series=key).last
    return f"{key}-{last:06d}"


# --- Reading room (查阅接待) ---------------------------------------------------------------------
def register_visit(
    *,
    actor,
    visitor_name: str,
    id_number: str,
    purpose: str,
    visitor_unit: str = "",
    remarks: str = "",
    records=(),
) -> Visit:
    """Register a visitor (ID number checked) and, if given, the records they consulted."""
    _require_desk(actor)
    number = id_numbers.normalize(id_number).number
    if purpose not in Purpose.values:
        raise ValidationError(_("Choose a purpose from the list."), code="purpose")
    if not visitor_name.strip():
        raise ValidationError(_("The visitor's name is missing."), code="name_missing")
    with transaction.atomic():
        visit = Visit.objects.create(
            visitor_name=visitor_name.strip(),
            id_number=number,
            visitor_unit=visitor_unit.strip(),
            purpose=purpose,
            remarks=remarks.strip(),
            clerk=actor,
            unit=actor.unit,
        )
        record_event(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=visit,
            detail={"id_number": id_numbers.mask(number), "purpose": purpose},
        )
        if records:
            add_consulted(actor=actor, visit=visit, records=records)
    return visit


def add_consulted(*, actor, visit: Visit, records) -> list[Use]:
    """Record that the visitor of ``visit`` consulted ``records`` (ids or records)."""
    _require_desk(actor)
    with transaction.atomic():
        found = _visible(actor, records)
        uses = Use.objects.bulk_create(
            [
                Use(
                    record=r,
                    channel=Use.Channel.READING_ROOM,
                    purpose=visit.purpose,
                    visit=visit,
                    actor=actor,
                )
                for r in found
            ]
        )
        for r in found:
            record_event(
                actor=actor,
                action=AuditEvent.Action.READ,
                obj=r,
                detail={"visit": visit.pk, "channel": "reading_room"},
            )
    return uses


def record_outcome(*, actor, use: Use, outcome: str) -> Use:
    """Record what a use achieved (利用效果), for the statistics of use; audited."""
    _require_desk(actor)
    if outcome not in Outcome.values:
        raise ValidationError(_("Choose one of the outcomes."), code="bad_outcome")
    with transaction.atomic():
        use = Use.objects.select_for_update().get(pk=use.pk)
        _visible(actor, [use.record_id])
        before = use.outcome
        use.outcome = outcome
        use.save(update_fields=["outcome"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=use,
            before={"outcome": before},
            after={"outcome": outcome},
        )
    return use


# --- Loans (借阅) --------------------------------------------------------------------------------
def lend(
    *,
    actor,
    record,
    borrower_name: str,
    purpose: str,
    borrower_unit: str = "",
    borrower_email: str = "",
    due_on: datetime.date | None = None,
) -> Loan:
    """Lend the paper file of ``record``; one loan at a time per file."""
    _require_desk(actor)
    if purpose not in Purpose.values:
        raise ValidationError(_("Choose a purpose from the list."), code="purpose")
    if not borrower_name.strip():
        raise ValidationError(_("The borrower's name is missing."), code="name_missing")
    today = timezone.localdate()
    due_on = due_on or today + datetime.timedelta(days=settings.DANGAN_LOAN_DAYS)
    if due_on < today:
        raise ValidationError(_("The due date is in the past."), code="due_in_past")
    with transaction.atomic():
        (record,) = _visible(actor, [record])
        if Loan.objects.filter(record=record, returned_at__isnull=True).exists():
            raise ValidationError(_("This file is already lent out."), code="already_lent")
        loan = Loan.objects.create(
            record=record,
            borrower_name=borrower_name.strip(),
            borrower_unit=borrower_unit.strip(),
            borrower_email=borrower_email.strip(),
            purpose=purpose,
            lent_by=actor,
            due_on=due_on,
        )
        Use.objects.create(record=record, channel=Use.Channel.LOAN, purpose=purpose, actor=actor)
        record_event(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=loan,
            detail={"record": record.pk, "due_on": due_on, "borrower": loan.borrower_name},
        )
    return loan


def return_loan(*, actor, loan: Loan) -> Loan:
    _require_desk(actor)
    with transaction.atomic():
        loan = Loan.objects.select_for_update().get(pk=loan.pk)
        _visible(actor, [loan.record_id])
        if loan.returned_at is not None:
            raise ValidationError(_("This file was already returned."), code="already_returned")
        loan.returned_at = timezone.now()
        loan.returned_to = actor
        loan.save(update_fields=["returned_at", "returned_to"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=loan,
            detail={"returned": True, "days_overdue": loan.days_overdue(loan.due_on)},
        )
    return loan


def send_reminders(*, today: datetime.date | None = None) -> dict:
    """Mail every borrower of an overdue file who has an e-mail address, once a day at most.

    Returns ``{"overdue": n, "reminded": n, "without_email": n, "failed": n}``.
    """
    today = today or timezone.localdate()
    counts = {"overdue": 0, "reminded": 0, "without_email": 0, "failed": 0}
    start_of_day = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    for loan in selectors.overdue_loans(None, today=today):
        counts["overdue"] += 1
        if not loan.borrower_email:
            counts["without_email"] += 1
            continue
        if loan.reminded_at and loan.reminded_at >= start_of_day:
            continue
        subject = _("Please return archive file %(code)s") % {
            "code": loan.record.archival_code or loan.record.legacy_number or loan.record_id
        }
        body = _(
            "Dear %(name)s,\n\nthe archive file “%(title)s” (%(code)s) you borrowed on %(lent)s "
            "was due back on %(due)s. Please return it to the archive.\n"
        ) % {
            "name": loan.borrower_name,
            "title": loan.record.title,
            "code": loan.record.archival_code or "—",
            "lent": timezone.localdate(loan.lent_at).isoformat(),
            "due": loan.due_on.isoformat(),
        }
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [loan.borrower_email])
        except OSError as exc:  # the mail server is down: report it, try again tomorrow
            logger.warning("reminder for loan %s not sent: %s", loan.pk, exc)
            counts["failed"] += 1
            continue
        with transaction.atomic():
            Loan.objects.filter(pk=loan.pk).update(reminded_at=timezone.now())
            record_event(
                actor=None,
                action=AuditEvent.Action.UPDATE,
                obj=loan,
                detail={"reminder": loan.borrower_email, "due_on": loan.due_on},
            )
        counts["reminded"] += 1
    return counts


# --- Access requests (利用申请) -------------------------------------------------------------------
def _source_of(user) -> str:
    """Where a request comes from, by what the requester does, not by a role's code (roles are
    the county's data): a citizen (the portal's fixed role), another unit (whoever sends
    hand-over lists for their unit, ``intake.send``: business units' and towns' clerks, or a
    county role of that duty), or the archive's own staff."""
    if user.role == Role.CITIZEN:
        return AccessRequest.Source.CITIZEN
    if has_permission(user, "intake.send"):
        return AccessRequest.Source.UNIT
    return AccessRequest.Source.STAFF


def rule_for(record: Record) -> str:
    """What the rules say for a request of ``record``: ``deliver``, ``approve`` or ``refuse``.

    Secret and above never go online; open records (开放) deliver at once; everything else
    (controlled, delayed, not yet reviewed) needs an approver's decision.
    """
    if record.secrecy >= Secrecy.SECRET:
        return "refuse"
    if record.openness == Openness.OPEN:
        return "deliver"
    return "approve"


PAPER_ONLY = gettext_lazy(
    "The archive holds this record on paper only: there are no pages to copy, so no copy can be "
    "sent online. Ask at the reading room, which can certify the catalogue entry or copy the paper."
)


def has_pages(record) -> bool:
    """Whether ``record`` has a scanned or received page to copy (a copy certifies pages)."""
    from dangan.content.models import Page

    return Page.objects.filter(record=record, role=Page.Role.ORIGINAL).exists()


def submit_request(
    *, requester, record, purpose: str = Purpose.PERSONAL, reason: str = "", source=None
) -> AccessRequest:
    """A request for a copy of ``record``, decided by the rules at once where they allow.

    Returns the request: ``delivered`` (open records), ``submitted`` (waits for approval), or
    ``refused`` (secret records: kept, with the reason, so the requester sees the answer).
    """
    if purpose not in Purpose.values:
        raise ValidationError(_("Choose a purpose from the list."), code="purpose")
    pk = getattr(record, "pk", record)
    try:
        record = selectors.requestable_records(requester).get(pk=pk)
    except Record.DoesNotExist:
        raise ValidationError(
            _("You may not request a copy of this record."), code="not_requestable"
        ) from None
    rule = rule_for(record)
    with transaction.atomic():
        req = AccessRequest.objects.create(
            number=_next_number("LY"),
            source=source or _source_of(requester),
            requester=requester,
            requester_name=requester.get_full_name() or requester.username,
            record=record,
            purpose=purpose,
            reason=reason.strip()[:500],
        )
        record_event(
            actor=requester,
            action=AuditEvent.Action.CREATE,
            obj=req,
            detail={"record": record.pk, "rule": rule, "purpose": purpose},
        )
        if rule == "refuse":
            _decide(
                req,
                actor=None,
                state=AccessRequest.State.REFUSED,
                reason=_(
                    "Secret records are never delivered online. Ask at the archive's reading "
                    "room, with the approvals the secrecy rules require."
                ),
            )
        elif not has_pages(record):
            _decide(req, actor=None, state=AccessRequest.State.REFUSED, reason=PAPER_ONLY)
        elif rule == "deliver":
            _decide(req, actor=None, state=AccessRequest.State.APPROVED, reason=_("Open record."))
            _deliver(req)
    return req


def _decide(req: AccessRequest, *, actor, state: str, reason: str) -> None:
    req.state = state
    req.decided_by = actor
    req.decided_at = timezone.now()
    req.decision_reason = reason[:500]
    req.save(update_fields=["state", "decided_by", "decided_at", "decision_reason"])
    record_event(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=req,
        detail={"state": state, "reason": req.decision_reason},
    )


def _check_approver(actor, req: AccessRequest) -> None:
    if not may_decide_requests(actor):
        raise PermissionDenied(_("Only archivists and leaders decide access requests."))
    if not visible_records(actor).filter(pk=req.record_id).exists():
        raise AccessRequest.DoesNotExist  # a request for a record one cannot see does not exist
    if actor.pk == req.requester_id:
        raise PermissionDenied(_("Nobody decides their own request."))


def next_step(req: AccessRequest) -> tuple[int, str] | None:
    """The step (number from 1, role) that ``req`` waits for, when the county set several
    steps; None with today's single step."""
    return approvals.next_step(ApprovalFlow.Kind.COPY_REQUEST, req)


def may_decide(actor, req: AccessRequest) -> bool:
    """Whether ``actor`` may approve or refuse ``req`` now (the request page's buttons)."""
    if req.state != AccessRequest.State.SUBMITTED or actor.pk == req.requester_id:
        return False
    if approval_steps(ApprovalFlow.Kind.COPY_REQUEST):
        return approvals.is_turn_of(
            actor, ApprovalFlow.Kind.COPY_REQUEST, req, requester_id=req.requester_id
        )
    return has_permission(actor, "access.approve")


def _take_step(req: AccessRequest, *, actor, reason: str) -> bool:
    """Record ``actor``'s approval of the step ``req`` waits for; True when it was the last."""
    if not approval_steps(ApprovalFlow.Kind.COPY_REQUEST):
        return True  # today's single step
    return approvals.take_step(
        actor=actor,
        kind=ApprovalFlow.Kind.COPY_REQUEST,
        subject=req,
        requester_id=req.requester_id,
        reason=reason,
    )


def _locked_pending(req: AccessRequest) -> AccessRequest:
    req = AccessRequest.objects.select_for_update().get(pk=req.pk)
    if req.state != AccessRequest.State.SUBMITTED:
        raise ValidationError(_("This request was already decided."), code="already_decided")
    return req


def approve_request(*, actor, access_request: AccessRequest, reason: str = "") -> AccessRequest:
    """Approve a request for a controlled record; the copy is made by the worker (``_deliver``)."""
    _check_approver(actor, access_request)
    with transaction.atomic():
        req = _locked_pending(access_request)
        if rule_for(req.record) == "refuse":  # made secret since it was asked for
            raise ValidationError(
                _("Secret records are never delivered online."), code="secret_never_online"
            )
        if not _take_step(req, actor=actor, reason=reason.strip()):
            return req  # waits for the next step
        _decide(req, actor=actor, state=AccessRequest.State.APPROVED, reason=reason.strip())
        _deliver(req, actor=actor)
    return req


def refuse_request(*, actor, access_request: AccessRequest, reason: str) -> AccessRequest:
    """Refuse a request (at any of its steps, by the role of that step); the reason is
    required and shown to the requester."""
    _check_approver(actor, access_request)
    if not may_decide(actor, access_request):
        raise PermissionDenied(_("This step of the approval is not yours."))
    if not (reason or "").strip():
        raise ValidationError(_("Give the reason for the refusal."), code="reason_missing")
    with transaction.atomic():
        req = _locked_pending(access_request)
        _decide(req, actor=actor, state=AccessRequest.State.REFUSED, reason=reason.strip())
    return req


def _deliver(req: AccessRequest, *, actor=None) -> None:
    """Have the watermarked certified copy of an approved request made: by the worker once this
    transaction commits (a long file takes seconds to a minute, the approver does not wait), or
    here with ``DANGAN_COPIES_IN_BACKGROUND`` off. Until it is made the request says “being
    prepared” (approved, no certificate yet); a copy that cannot be made says why (``failed``)."""
    if not settings.DANGAN_COPIES_IN_BACKGROUND:
        _attempt_copy(req, actor=actor)
        return
    from .tasks import deliver_copy_task

    actor_id = actor.pk if actor else None

    def enqueue():
        result = deliver_copy_task.enqueue(req.pk, actor_id)
        AccessRequest.objects.filter(pk=req.pk).update(copy_task_id=str(result.id)[:64])

    transaction.on_commit(enqueue)


def deliver_copy(*, request_id: int, actor=None) -> AccessRequest:
    """Make the copy of the approved request ``request_id`` and mark it delivered (the worker's
    task, ``tasks.deliver_copy_task``). A request already delivered, or no longer approved, is
    left as it is: a task run twice makes one copy. A copy that cannot be made leaves the
    request ``failed`` with the reason, for the sweep or a clerk to try again."""
    with transaction.atomic():
        req = AccessRequest.objects.select_for_update().get(pk=request_id)
        if req.state == AccessRequest.State.APPROVED and req.certificate_id is None:
            _attempt_copy(req, actor=actor)
    return req


#: A failed copy is tried again by the worker's sweep until it has been tried this many times
#: (a clerk's retry is always possible)…
COPY_ATTEMPTS = 3
#: …each time when it failed at least this long ago (a page restored from a backup meanwhile).
COPY_RETRY_AFTER = datetime.timedelta(minutes=5)


def _attempt_copy(req: AccessRequest, *, actor=None) -> None:
    """Try to make the copy of the approved ``req`` (locked by the caller); on a failure the
    request is ``failed`` with the reason, audited, and nothing of the copy is kept."""
    from dangan.content.selectors import BlobUnreadable

    req.copy_attempts += 1
    try:
        with transaction.atomic():
            _make_copy(req, actor=actor)
    except BlobUnreadable:
        failure = AccessRequest.CopyFailure.PAGE_UNREADABLE
    except ValidationError as error:
        failure = (
            AccessRequest.CopyFailure.NO_PAGES
            if error.code == "no_pages"
            else AccessRequest.CopyFailure.ERROR
        )
        logger.warning("the copy of request %s was refused: %s", req.number, error.messages)
    except Exception:
        logger.exception("the copy of request %s could not be made", req.number)
        failure = AccessRequest.CopyFailure.ERROR
    else:
        AccessRequest.objects.filter(pk=req.pk).update(
            copy_attempts=req.copy_attempts, copy_failure="", copy_failed_at=None
        )
        req.copy_failure, req.copy_failed_at = "", None
        return
    _copy_failed(req, failure)


def _copy_failed(req: AccessRequest, failure: str) -> None:
    req.certificate, req.delivered_at = None, None
    req.state, req.copy_failure, req.copy_failed_at = (
        AccessRequest.State.FAILED,
        failure,
        timezone.now(),
    )
    req.save(
        update_fields=[
            "certificate",
            "delivered_at",
            "state",
            "copy_failure",
            "copy_failed_at",
            "copy_attempts",
        ]
    )
    record_event(
        actor=None,
        action=AuditEvent.Action.UPDATE,
        obj=req,
        detail={"state": req.state, "failure": failure, "attempt": req.copy_attempts},
    )


def may_retry_copy(actor, req: AccessRequest) -> bool:
    """Whether ``actor`` may have a failed copy tried again now (the request page's button)."""
    return req.state == AccessRequest.State.FAILED and (
        may_serve(actor) or may_decide_requests(actor)
    )


def retry_copy(*, actor, access_request: AccessRequest) -> AccessRequest:
    """A clerk has the failed copy of ``access_request`` made again (audited); the worker makes
    it as after an approval."""
    if not may_serve(actor) and not may_decide_requests(actor):
        raise PermissionDenied(_("Only archivists and reading-room clerks issue copies."))
    if not visible_records(actor).filter(pk=access_request.record_id).exists():
        raise AccessRequest.DoesNotExist
    with transaction.atomic():
        req = AccessRequest.objects.select_for_update().get(pk=access_request.pk)
        if req.state != AccessRequest.State.FAILED:
            raise ValidationError(
                _("Only a copy that failed can be tried again."), code="not_failed"
            )
        _requeue(req, actor=actor)
    return req


def _requeue(req: AccessRequest, *, actor) -> None:
    req.state = AccessRequest.State.APPROVED
    req.save(update_fields=["state"])
    record_event(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=req,
        detail={"state": req.state, "retry": req.copy_attempts + 1, "failure": req.copy_failure},
    )
    _deliver(req, actor=actor or req.decided_by)


def retry_failed_copies(*, stopped_task_ids=()) -> list[int]:
    """The worker's sweep: copies whose task was cut off with its worker (``stopped_task_ids``,
    from ``ops.stopped_workers``) are marked failed; failed copies tried fewer than
    ``COPY_ATTEMPTS`` times, the last at least ``COPY_RETRY_AFTER`` ago, are queued again.
    The ids of the requests queued again."""
    ids = [str(t) for t in stopped_task_ids]
    if ids:
        for req in AccessRequest.objects.filter(
            copy_task_id__in=ids, state=AccessRequest.State.APPROVED, certificate__isnull=True
        ):
            with transaction.atomic():
                req = AccessRequest.objects.select_for_update().get(pk=req.pk)
                if req.state == AccessRequest.State.APPROVED and req.certificate_id is None:
                    req.copy_attempts += 1  # its own count was lost with the worker
                    _copy_failed(req, AccessRequest.CopyFailure.WORKER_STOPPED)
    due = AccessRequest.objects.filter(
        state=AccessRequest.State.FAILED,
        copy_attempts__lt=COPY_ATTEMPTS,
        copy_failed_at__lte=timezone.now() - COPY_RETRY_AFTER,
    )
    queued = []
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            req = AccessRequest.objects.select_for_update().get(pk=pk)
            if req.state == AccessRequest.State.FAILED:
                _requeue(req, actor=None)
                queued.append(pk)
    return queued


def _make_copy(req: AccessRequest, *, actor=None) -> None:
    """Make the watermarked certified copy of the request and mark the request delivered."""
    issuer = actor or req.decided_by or req.requester
    when = timezone.localtime()
    watermark = _("%(name)s · %(time)s · request %(number)s") % {
        "name": req.requester_name,
        "time": when.strftime("%Y-%m-%d %H:%M"),
        "number": req.number,
    }
    citizen = req.source == AccessRequest.Source.CITIZEN
    holder = selectors.citizen_id_number(req.requester) if citizen else None
    cert = issue_certificate(
        actor=issuer,
        record=req.record,
        request=req,
        watermark=watermark,
        checked=True,
        holder_id_number=holder,
    )
    req.certificate = cert
    req.state = AccessRequest.State.DELIVERED
    req.delivered_at = when  # the time the watermark states, to the minute
    req.save(update_fields=["certificate", "state", "delivered_at"])
    Use.objects.create(
        record=req.record, channel=Use.Channel.REQUEST, purpose=req.purpose, actor=req.requester
    )


def record_use(*, record, purpose: str, actor=None) -> Use:
    """One use of ``record`` delivered online by another way than a request here (a remote
    request's certificate, dangan.remote): counted with the rest in the statistics."""
    return Use.objects.create(
        record=record, channel=Use.Channel.REQUEST, purpose=purpose, actor=actor
    )


def delivery_url(*, access_request: AccessRequest) -> str:
    """A link to the delivered copy, valid ``DANGAN_DELIVERY_LINK_HOURS`` hours, for the
    requester only (the view also checks the logged-in user)."""
    token = signing.dumps(
        {"r": access_request.pk, "u": access_request.requester_id}, salt=DELIVERY_SALT
    )
    return reverse("access:delivery", args=[token])


def open_delivery(*, user, token: str) -> tuple[AccessRequest, object]:
    """The request and opened PDF a delivery link points at, the download audited.

    ``signing.SignatureExpired`` for a link too old; ``AccessRequest.DoesNotExist`` for a bad
    link, another user's link, or a request with nothing delivered (callers answer 404).
    """
    from dangan.content.selectors import open_blob

    max_age = datetime.timedelta(hours=settings.DANGAN_DELIVERY_LINK_HOURS)
    try:
        data = signing.loads(token, salt=DELIVERY_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise
    except signing.BadSignature:
        raise AccessRequest.DoesNotExist from None
    if not user.is_authenticated or data.get("u") != user.pk:
        raise AccessRequest.DoesNotExist
    req = AccessRequest.objects.select_related("certificate__blob", "record").get(
        pk=data.get("r"), requester=user, state=AccessRequest.State.DELIVERED
    )
    stream = open_blob(req.certificate.blob)  # first: an unreadable file was not downloaded
    record_event(
        actor=user,
        action=AuditEvent.Action.DOWNLOAD,
        obj=req.record,
        detail={"request": req.number, "certificate": req.certificate.number},
    )
    return req, stream


# --- Certified copies (档案证明) -----------------------------------------------------------------
def issue_certificate(
    *,
    actor,
    record,
    request: AccessRequest | None = None,
    watermark: str = "",
    checked=False,
    issuer_name: str = "",
    entry_only=False,
    holder_id_number: str | None = None,
) -> Certificate:
    """Issue a certified copy of ``record``: build the PDF, keep it in the content store, sign
    its digest, append to the ledger. ``checked``: the caller already decided the actor's right
    (a request's delivery); otherwise the actor must be at the desk and see the record.
    ``issuer_name``: who issues it, when not ``DANGAN_ISSUER_NAME`` (a county of a province's
    installation answering a remote request). ``holder_id_number``: the citizen the copy is
    delivered to; their own name is not masked on the cover (the public page masks everyone).

    A copy certifies pages: a record without a page that can be printed is refused with the
    reason. For a record held on paper only, ``entry_only`` issues a certificate of its catalogue
    entry instead, whose cover says that it certifies the entry and no pages.
    """
    from dangan.content.models import Page

    if not checked:
        _require_desk(actor)
        (record,) = _visible(actor, [record])
        if rule_for(record) == "refuse":
            raise ValidationError(
                _("Secret records are never delivered online."), code="secret_never_online"
            )
    pages = list(
        Page.objects.filter(record=record, role=Page.Role.ORIGINAL)
        .select_related("blob", "processing__searchable_pdf")
        .order_by("position")
    )
    page_pdfs = copies.printable_pages(pages)
    if entry_only and pages:
        raise ValidationError(
            _("This record has pages: issue a certified copy of them, not of its entry alone."),
            code="has_pages",
        )
    if not entry_only and not page_pdfs:
        raise ValidationError(
            _(
                "This record has no page that can be copied, so a copy would certify nothing. "
                "Digitize it first, or, for a record held on paper only, issue a certificate "
                "of its catalogue entry."
            ),
            code="no_pages",
        )
    code = certificates.new_code()
    issuer_name = issuer_name or settings.DANGAN_ISSUER_NAME
    issued_at = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        number = _next_number("ZM")
        content = copies.CopyContent(
            number=number,
            verify_url=settings.DANGAN_PUBLIC_URL.rstrip("/")
            + reverse("verify:certificate", args=[code]),
            issuer=issuer_name,
            issued_at=timezone.localtime(issued_at),
            summary=certificates.summary_of(record, holder_id_number=holder_id_number),
            watermark=watermark
            or _("%(issuer)s · %(time)s · certificate %(number)s")
            % {
                "issuer": issuer_name,
                "time": timezone.localtime(issued_at).strftime("%Y-%m-%d %H:%M"),
                "number": number,
            },
            request_number=request.number if request else "",
            entry_only=entry_only,
        )
        public_summary = certificates.summary_of(record)
        if entry_only:
            content.summary["entry_only"] = public_summary["entry_only"] = True
        pdf = copies.build_copy(content=content, page_pdfs=page_pdfs)
        blob = keep_bytes(name=f"{number}.pdf", data=pdf)
        cert = Certificate(
            number=number,
            code=code,
            record=record,
            request=request,
            issued_by=actor,
            issuer_name=issuer_name,
            issued_at=issued_at,
            summary=public_summary,
            blob=blob,
            sha256=hashlib.sha256(pdf).hexdigest(),
        )
        cert.algorithm, cert.signature, cert.key_fingerprint = certificates.sign(cert.signed_text())
        cert.save()
        record_event(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=cert,
            detail={"record": record.pk, "sha256": cert.sha256, "request": content.request_number},
        )
        _ledger_append(cert, actor=actor)
    return cert


def _ledger_append(cert: Certificate, *, actor) -> None:
    from dangan.integrity import ledger

    ledger.append(
        kind=ledger.CERTIFICATE_ISSUED,
        subject=f"certificate:{cert.number}",
        digest=f"sha256:{cert.sha256}",
        actor=actor,
        details={
            "record": cert.record_id,
            "code_sha256": hashlib.sha256(cert.code.encode()).hexdigest(),
        },
    )


def revoke_certificate(*, actor, certificate: Certificate, reason: str) -> Certificate:
    """Withdraw a certificate issued in error (the wrong record, a wrong summary): it stays on
    file and in the ledger, and ``/verify/`` says from when and why it certifies nothing.
    Archivists and leaders only; the reason is required; audited and entered in the ledger."""
    from dangan.integrity import ledger

    if not may_decide_requests(actor):
        raise PermissionDenied(_("Only archivists and leaders revoke certificates."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for the revocation."), code="reason_missing")
    with transaction.atomic():
        cert = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if not visible_records(actor).filter(pk=cert.record_id).exists():
            raise Certificate.DoesNotExist
        if cert.revoked_at is not None:
            raise ValidationError(
                _("This certificate was already revoked."), code="already_revoked"
            )
        cert.revoked_at, cert.revoked_by, cert.revocation_reason = timezone.now(), actor, reason
        cert.save(update_fields=["revoked_at", "revoked_by", "revocation_reason"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=cert,
            before={"revoked": False},
            after={"revoked": True, "reason": reason},
        )
        ledger.append(
            kind=ledger.CERTIFICATE_REVOKED,
            subject=f"certificate:{cert.number}",
            digest=f"sha256:{cert.sha256}",
            actor=actor,
            details={"reason": reason},
        )
    return cert


# --- Output of chosen records and pages (输出) --------------------------------------------------


def copy_refusal(user, record: Record) -> str | None:
    """Why ``user`` may not have a copy (an output) of ``record``, or None when they may.

    A copy is for records the user may read, that still exist (not a destruction's tombstone)
    and are below secret: secret records are copied only through the approvals the secrecy
    rules require, never by a reader's own output."""
    if record.state == Record.State.DESTROYED:
        return _("%(code)s was destroyed.") % {"code": code_of(record)}
    if record.secrecy >= Secrecy.SECRET:
        return _(
            "%(code)s is secret: it is not copied without the approvals its secrecy needs."
        ) % {"code": code_of(record)}
    return None


def code_of(record: Record) -> str:
    return record.archival_code or record.legacy_number or _("record %(pk)s") % {"pk": record.pk}


def records_to_output(user, record_ids) -> list[Record]:
    """The chosen records the user may copy, in the order chosen; a ValidationError naming the
    ones they may not (a record they may not see is not named: it is "not found")."""
    ids = []
    for pk in record_ids:
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            continue
        if pk not in ids:
            ids.append(pk)
    if not ids:
        raise ValidationError(_("Choose at least one record."), code="nothing_chosen")
    if len(ids) > outputs.MAX_RECORDS:
        raise ValidationError(
            _("Choose at most %(n)s records for one output.") % {"n": outputs.MAX_RECORDS},
            code="too_many",
        )
    found = visible_records(user).select_related("category").in_bulk(ids)
    problems = []
    if len(found) < len(ids):
        problems.append(
            _("%(n)s of the chosen records were not found.") % {"n": len(ids) - len(found)}
        )
    problems += [p for p in (copy_refusal(user, r) for r in found.values()) if p]
    if problems:
        raise ValidationError([_("Nothing was output.")] + problems, code="may_not_copy")
    return [found[pk] for pk in ids]


def output_records(*, actor, record_ids, fmt: str, out, progress=None) -> dict:
    """Write the list of the chosen records to ``out`` (``fmt`` "xlsx" or "pdf") and audit it
    with the records it holds and the file's digest."""
    if fmt not in outputs.FORMATS:
        raise ValidationError(_("Choose Excel or PDF."), code="bad_format")
    records = records_to_output(actor, record_ids)
    if fmt == "xlsx":
        data = outputs.list_xlsx(records, progress=progress)
    else:
        data = outputs.list_pdf(records, note=_output_note(actor))
    out.write(data)
    detail = {
        "output": f"list.{fmt}",
        "records": [r.pk for r in records],
        "codes": [code_of(r) for r in records],
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    record_event(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        object_type=Record._meta.label_lower,
        object_repr=_("List of %(n)s records") % {"n": len(records)},
        detail=detail,
    )
    return detail


def pages_to_output(user, record_id, page_ids) -> tuple[Record, list]:
    """The record and the chosen pages of it, in the record's order; ValidationError when the
    user may not copy the record, no page is chosen or a chosen page is not the record's."""
    from dangan.content.models import Page

    try:
        record = visible_records(user).get(pk=record_id)
    except (Record.DoesNotExist, ValueError, TypeError):
        raise ValidationError(_("There is no such record."), code="not_found") from None
    refusal = copy_refusal(user, record)
    if refusal:
        raise ValidationError([_("Nothing was output."), refusal], code="may_not_copy")
    ids = set()
    for pk in page_ids:
        try:
            ids.add(int(pk))
        except (TypeError, ValueError):
            continue
    if not ids:
        raise ValidationError(_("Choose at least one page."), code="nothing_chosen")
    pages = list(
        Page.objects.filter(record=record, role=Page.Role.ORIGINAL, pk__in=ids)
        .select_related("blob", "processing__searchable_pdf")
        .order_by("position")
    )
    if len(pages) < len(ids):
        raise ValidationError(
            _("Some of the chosen pages are not pages of this record."), code="not_its_pages"
        )
    return record, pages


def output_pages(*, actor, record_id, page_ids, out, progress=None) -> dict:
    """Write the chosen pages of a record to ``out`` as one PDF, the reader's watermark drawn
    over each (as outlines, never text), and audit it with the pages it holds."""
    record, pages = pages_to_output(actor, record_id, page_ids)
    page_pdfs, printed = [], []
    for n, page in enumerate(pages, start=1):
        data = copies.printable_pages([page])
        if data:
            page_pdfs += data
            printed.append(page)
        if progress:
            progress(n, len(pages))
    left_out = [p.position for p in pages if p not in printed]
    if left_out:
        raise ValidationError(
            _("Pages %(pages)s cannot be printed (a file that is not a page picture or PDF).")
            % {"pages": ", ".join(map(str, left_out))},
            code="not_printable",
        )
    data, count = outputs.pages_pdf(page_pdfs, text=_output_note(actor), title=code_of(record))
    out.write(data)
    detail = {
        "output": "pages.pdf",
        "record": record.pk,
        "code": code_of(record),
        "pages": [p.position for p in pages],
        "page_sha256": [p.blob.sha256 for p in pages],
        "pdf_pages": count,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    record_event(actor=actor, action=AuditEvent.Action.EXPORT, obj=record, detail=detail)
    return detail


def _output_note(actor) -> str:
    """The watermark and the list's foot: who had it made, when, by which archive."""
    return _("%(issuer)s · output for %(name)s · %(time)s · not a certified copy") % {
        "issuer": settings.DANGAN_ISSUER_NAME,
        "name": actor.get_full_name() or actor.username,
        "time": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    }
