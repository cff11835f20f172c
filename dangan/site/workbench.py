"""What waits for a user, tray by tray, for the workbench (工作台) at ``/``.

A tray is one kind of waiting work: its title, how many, the first few (each a link) and a link
to the whole list. A tray is shown only to those who may open its list: it asks the same
predicate as the list's view and the menu, so no workbench link answers 403. Every count is
read through the apps' selectors, so it covers only what the user may see.
"""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from dangan.access import selectors as access
from dangan.access.models import AccessRequest
from dangan.access.services import may_decide_requests, may_serve
from dangan.accounts.lockout import active_locks
from dangan.accounts.models import ApprovalFlow
from dangan.accounts.services import approval_steps
from dangan.alerts import selectors as security
from dangan.appraisal import selectors as appraisal
from dangan.appraisal.models import DestructionList
from dangan.appraisal.services import may_decide_destruction
from dangan.compilation import selectors as compilation
from dangan.compilation.models import Exhibition
from dangan.digitize import selectors as digitize
from dangan.digitize.models import PageProcessing
from dangan.intake import selectors as intake
from dangan.intake.handover import is_clerk, may_use_handover
from dangan.intake.models import HandoverList
from dangan.integrity.alerts import alerts, may_view_alerts
from dangan.security.duties import Duty, has_duty
from dangan.security.permissions import has_permission
from dangan.stats import selectors as stats

FIRST = 5


@dataclass
class Tray:
    key: str
    title: str
    url: str
    count: int
    items: list = field(default_factory=list)  # (label, url) pairs
    figures: list = field(default_factory=list)  # (label, value) pairs
    empty: str = ""


def may_use_workbench(user) -> bool:
    """Staff and the three administrators; citizens have the portal."""
    return has_permission(user, "workbench")


def trays_for(user) -> list[Tray]:
    """The trays of ``user``'s workbench, the work of their role first."""
    makers = [
        _holdings,
        _handover,
        _requests,
        _failed_copies,
        _destruction,
        _compilations,
        _loans,
        _alerts,
        _security_alerts,
        _locks,
        _due,
        _failed_scans,
    ]
    return [tray for make in makers if (tray := make(user)) is not None]


def _handover(user):
    if not may_use_handover(user):
        return None
    lists = intake.handover_lists_for(user).order_by("-pk")
    if is_clerk(user):
        # A clerk's work: drafts to finish and send, answered lists with items sent back.
        waiting = lists.filter(state__in=[HandoverList.State.DRAFT, HandoverList.State.ANSWERED])
        title, empty = _("Your hand-over lists"), _("No draft and no answered list.")
    else:
        waiting = lists.filter(state=HandoverList.State.SENT)
        title, empty = _("Hand-over lists to check"), _("No list waits to be checked.")
    first = list(waiting[:FIRST])
    return Tray(
        key="handover",
        title=title,
        url=reverse("intake:handover-lists"),
        count=waiting.count(),
        items=[
            (f"{h.title} · {h.unit.name} · {h.get_state_display()}", _detail("intake", h))
            for h in first
        ],
        empty=empty,
    )


def _detail(app, obj) -> str:
    names = {
        "intake": "intake:handover-detail",
        "access": "access:request-detail",
        "appraisal": "appraisal:destruction-detail",
        "storage": "storage:alert-detail",
        "digitize": "digitize:page-view",
    }
    return reverse(names[app], args=[obj.pk])


def _requests(user):
    if not may_decide_requests(user):
        return None
    waiting = access.staff_requests(user, state=AccessRequest.State.SUBMITTED).order_by("pk")
    return Tray(
        key="requests",
        title=_("Requests to approve"),
        url=reverse("access:request-list"),
        count=waiting.count(),
        items=[
            (
                f"{r.record.archival_code or r.record.title} · {r.get_purpose_display()}",
                _detail("access", r),
            )
            for r in waiting[:FIRST]
        ],
        empty=_("No request waits for a decision."),
    )


def _failed_copies(user):
    """Approved requests whose certified copy the worker could not make (shown only when
    there are some: the worker tries again by itself, a clerk may at once)."""
    if not (may_serve(user) or may_decide_requests(user)):
        return None
    failed = access.staff_requests(user, state=AccessRequest.State.FAILED).order_by("pk")
    count = failed.count()
    if not count:
        return None
    return Tray(
        key="failed-copies",
        title=_("Copies that could not be made"),
        url=reverse("access:request-list") + "?state=failed",
        count=count,
        items=[
            (f"{r.number} · {r.get_copy_failure_display()}", _detail("access", r))
            for r in failed[:FIRST]
        ],
    )


def _destruction(user):
    in_steps = user.role in (approval_steps(ApprovalFlow.Kind.DESTRUCTION) or [])
    if not (in_steps or has_permission(user, "appraisal.approve")):
        return None
    proposed = appraisal.destruction_lists(user).filter(state=DestructionList.State.PROPOSED)
    waiting = [d for d in proposed.order_by("pk") if may_decide_destruction(user, d)]
    return Tray(
        key="destruction",
        title=_("Destruction lists to approve"),
        url=reverse("appraisal:overview"),
        count=len(waiting),
        items=[(str(d), _detail("appraisal", d)) for d in waiting[:FIRST]],
        empty=_("No destruction list waits for you."),
    )


def _compilations(user):
    """For a leader: compilation versions and exhibitions waiting for approval."""
    if not compilation.may_approve_compilations(user):
        return None
    waiting = compilation.waiting_for_approval(user)

    def url(obj):
        if isinstance(obj, Exhibition):
            return reverse("compilation:exhibition", args=[obj.pk])
        return obj.get_absolute_url()

    return Tray(
        key="compilations",
        title=_("Compilations and exhibitions to approve"),
        url=reverse("compilation:home"),
        count=len(waiting),
        items=[(str(obj), url(obj)) for obj in waiting[:FIRST]],
        empty=_("Nothing waits for your approval."),
    )


def _loans(user):
    if not access.is_desk_reader(user):
        return None
    overdue = access.overdue_loans(user)
    return Tray(
        key="loans",
        title=_("Overdue loans"),
        url=reverse("access:loan-list"),
        count=overdue.count(),
        items=[
            (
                _("%(code)s, due %(due)s (%(borrower)s)")
                % {
                    "code": loan.record.archival_code,
                    "due": date_format(loan.due_on),
                    "borrower": loan.borrower_name,
                },
                reverse("access:loan-list"),
            )
            for loan in overdue.select_related("record")[:FIRST]
        ],
        empty=_("Every lent file is back or not yet due."),
    )


def _alerts(user):
    if not may_view_alerts(user):
        return None
    waiting = alerts(status="unresolved").order_by("-pk")
    return Tray(
        key="alerts",
        title=_("Storage alerts"),
        url=reverse("storage:alert-list"),
        count=waiting.count(),
        items=[
            (f"{a.get_kind_display()} · {a.subject}", _detail("storage", a))
            for a in waiting[:FIRST]
        ],
        empty=_("No open storage alert."),
    )


def _security_alerts(user):
    if not security.may_see_alerts(user):
        return None
    waiting = security.open_alerts()
    url = reverse("alerts:list")
    return Tray(
        key="security",
        title=_("Security alerts to acknowledge"),
        url=url,
        count=waiting.count(),
        items=[
            (
                f"{timezone.localtime(a.at):%Y-%m-%d %H:%M} · {a.get_kind_display()} · {a.summary}",
                f"{url}#alert-{a.pk}",
            )
            for a in waiting.order_by("-at", "-pk")[:FIRST]
        ],
        empty=_("No open security alert."),
    )


def _locks(user):
    """Locked accounts and addresses: the security administrator lifts a lock once the owner
    is known (the lock-out page of the administration, which asks the same duty)."""
    if not has_duty(user, Duty.RIGHTS):
        return None
    locks = active_locks()
    url = reverse("admin:accounts_lockout_changelist")
    return Tray(
        key="locks",
        title=_("Locked accounts and addresses"),
        url=url,
        count=locks.count(),
        items=[
            (
                _("%(scope)s %(key)s: %(failures)d failed attempts, since %(since)s")
                % {
                    "scope": lock.get_scope_display(),
                    "key": lock.key,
                    "failures": lock.failures,
                    "since": timezone.localtime(lock.started_at).strftime("%Y-%m-%d %H:%M"),
                },
                reverse("admin:accounts_lockout_change", args=[lock.pk]),
            )
            for lock in locks[:FIRST]
        ],
        empty=_("No account and no address is locked."),
    )


def _due(user):
    if not (user.may_edit_records and appraisal.may_appraise(user)):
        return None
    summary = appraisal.due_summary(user)
    due_url = reverse("appraisal:due")
    return Tray(
        key="due",
        title=_("Records due for appraisal"),
        url=due_url,
        count=sum(row["count"] for row in summary),
        items=[
            (
                _("%(category)s, %(year)s: %(count)s")
                % {"category": row["category__name"], "year": row["year"], "count": row["count"]},
                f"{due_url}?category={row['category_id']}&year={row['year']}",
            )
            for row in summary[:FIRST]
        ],
        empty=_("No record has reached the end of its retention period."),
    )


def _failed_scans(user):
    if not digitize.may_bring_in_scans(user):
        return None
    failed = PageProcessing.objects.filter(
        state=PageProcessing.State.FAILED, page__in=digitize.visible_pages(user)
    ).select_related("page__record")
    return Tray(
        key="ocr",
        title=_("Scans whose reading failed"),
        url=reverse("digitize:batch-list"),
        count=failed.count(),
        items=[
            (
                _("%(code)s, page %(n)s")
                % {
                    "code": p.page.record.archival_code or p.page.record.title,
                    "n": p.page.position,
                },
                _detail("digitize", p.page),
            )
            for p in failed.order_by("-pk")[:FIRST]
        ],
        empty=_("Every scanned page was read."),
    )


def _holdings(user):
    if not (has_permission(user, "appraisal.approve") and stats.may_see_statistics(user)):
        return None
    held = stats.holdings(user)
    year = timezone.localdate().year
    entered = sum(stats.entered_in(user, year=year).values())
    figures = [(_("Records held"), held.total), (_("Entered this year"), entered)]
    figures += [
        (row["name"], row["count"])
        for row in sorted(stats.by_category(held), key=lambda r: -r["count"])[:FIRST]
    ]
    return Tray(
        key="holdings",
        title=_("Holdings"),
        url=reverse("stats:dashboard"),
        count=held.total,
        figures=figures,
    )
