"""Reading the oversight of units: who may see what, the survey side by side with Dangan's own
holdings, the facts an inspection starts from, rankings, keepers and custody lists.

The county (archivists and leaders) sees every unit; a unit's clerk sees only their own unit.
Counts of records always come from ``catalogue.selectors.visible_records`` of the viewer, so the
comparison can never show more than the viewer may read.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, F, Max, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.accounts.models import Grant, Unit
from dangan.catalogue.selectors import visible_records
from dangan.security.permissions import has_permission

from .models import (
    CustodyHandover,
    Fact,
    Finding,
    Inspection,
    Keeper,
    Qualification,
    Survey,
    SurveyAnswer,
    UnitRoom,
)

#: The kinds of unit the county surveys and inspects.
OVERSEEN_KINDS = [Unit.Kind.BUSINESS, Unit.Kind.TOWN]


def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def is_county(user) -> bool:
    """Sees every unit's survey answers, inspections and keepers."""
    return has_permission(user, "oversight.view")


def may_steer(user) -> bool:
    """Opens surveys, edits the checklist, inspects, draws up custody hand-overs."""
    return has_permission(user, "oversight.steer")


def is_unit_clerk(user) -> bool:
    return has_permission(user, "oversight.answer") and user.unit_id is not None


def may_use_oversight(user) -> bool:
    return is_county(user) or is_unit_clerk(user)


def overseen_units() -> QuerySet[Unit]:
    return Unit.objects.filter(kind__in=OVERSEEN_KINDS).order_by("code")


def units_for(user) -> QuerySet[Unit]:
    """The units ``user`` may look at here: all for the county, their own for a clerk."""
    if is_county(user):
        return overseen_units()
    if is_unit_clerk(user):
        return Unit.objects.filter(pk=user.unit_id)
    return Unit.objects.none()


# --- Holdings survey ----------------------------------------------------------------------


def surveys() -> QuerySet[Survey]:
    return Survey.objects.annotate(answer_count=Count("answers"))


def answer_of(survey: Survey, unit: Unit) -> SurveyAnswer | None:
    return SurveyAnswer.objects.filter(survey=survey, unit=unit).first()


@dataclass
class Holdings:
    """What Dangan itself holds for a unit, as far as the viewer may read it."""

    records: int = 0
    filed: int = 0
    digitised: int = 0
    year_from: int | None = None
    year_to: int | None = None


def holdings_by_unit(user, units) -> dict[int, Holdings]:
    """Dangan's holdings per unit in one GROUP BY over the viewer's visible records."""
    rows = (
        visible_records(user)
        .filter(unit__in=units)
        .values("unit_id")
        .annotate(
            records=Count("id"),
            filed=Count("id", filter=Q(state="filed")),
            digitised=Count("id", filter=Q(pages__isnull=False), distinct=True),
            year_from=Min("year"),
            year_to=Max("year"),
        )
    )
    found = {
        row["unit_id"]: Holdings(
            records=row["records"],
            filed=row["filed"],
            digitised=row["digitised"],
            year_from=row["year_from"],
            year_to=row["year_to"],
        )
        for row in rows
    }
    return {unit.pk: found.get(unit.pk, Holdings()) for unit in units}


def survey_comparison(user, survey: Survey) -> list[dict]:
    """Every surveyed unit: its answer (or none yet) beside what Dangan holds for it.

    ``difference`` is what the unit says it handed over minus what Dangan has on file for it:
    positive means records the unit counts as handed over that Dangan does not (yet) hold.
    """
    units = list(units_for(user))
    answers = {a.unit_id: a for a in survey.answers.select_related("answered_by")}
    holdings = holdings_by_unit(user, units)
    rows = []
    for unit in units:
        answer = answers.get(unit.pk)
        held = holdings[unit.pk]
        rows.append(
            {
                "unit": unit,
                "answer": answer,
                "held": held,
                "difference": (answer.files_moved - held.records) if answer else None,
            }
        )
    return rows


# --- Inspection facts ---------------------------------------------------------------------


def _year_span(year: int):
    tz = timezone.get_current_timezone()
    start = datetime.datetime(year, 1, 1, tzinfo=tz)
    return start, datetime.datetime(year + 1, 1, 1, tzinfo=tz)


def inspection_facts(unit: Unit, year: int, *, today: datetime.date | None = None) -> dict:
    """What Dangan already knows about ``unit`` for the inspection of ``year``.

    * ``overdue_handovers``: hand-over lists of the unit begun in the year and still not sent
      ``DANGAN_OVERSIGHT_HANDOVER_DAYS`` days after they were begun;
    * ``returned_items``: items of the unit's lists the archive returned during the year;
    * ``missing_pages``: records of the unit with scanned pages, but fewer than their page count;
    * ``room_alerts``: alerts of the unit's rooms (``UnitRoom``) begun in the year, and how many
      are still open;
    * ``named_archivist``: keepers named for the unit and in office now;
    * ``late_filing``: records of the unit still drafts ``DANGAN_OVERSIGHT_FILING_DAYS`` days
      after they were entered.

    Not permission-filtered: these are counts about a unit, never a record's description, and
    the inspection needs them whole whoever inspects.
    """
    from dangan.catalogue.models import Record
    from dangan.intake.models import HandoverList, ItemDecision
    from dangan.stacks.models import Alert

    today = today or timezone.localdate()
    now = timezone.now()
    start, end = _year_span(year)
    handover_days = settings.DANGAN_OVERSIGHT_HANDOVER_DAYS
    filing_days = settings.DANGAN_OVERSIGHT_FILING_DAYS

    late = datetime.timedelta(days=handover_days)
    overdue = HandoverList.objects.filter(
        Q(sent_at__isnull=True, created_at__lt=now - late) | Q(sent_at__gt=F("created_at") + late),
        unit=unit,
        created_at__gte=start,
        created_at__lt=end,
    ).count()
    returned = ItemDecision.objects.filter(
        item__handover__unit=unit,
        verdict=ItemDecision.Verdict.RETURNED,
        decided_at__gte=start,
        decided_at__lt=end,
    ).count()
    missing_pages = (
        Record.objects.filter(unit=unit, page_count__isnull=False)
        .annotate(originals=Count("pages", filter=Q(pages__role="original")))
        .filter(originals__gt=0, originals__lt=F("page_count"))
        .count()
    )
    rooms = UnitRoom.objects.filter(unit=unit).values("room_id")
    alerts = Alert.objects.filter(room_id__in=rooms, started_at__gte=start, started_at__lt=end)
    keepers = active_keepers().filter(unit=unit)
    late_filing = Record.objects.filter(
        unit=unit, state="draft", created_at__lt=now - datetime.timedelta(days=filing_days)
    ).count()
    return {
        Fact.OVERDUE_HANDOVERS.value: overdue,
        Fact.RETURNED_ITEMS.value: returned,
        Fact.MISSING_PAGES.value: missing_pages,
        Fact.ROOM_ALERTS.value: alerts.count(),
        "room_alerts_open": alerts.filter(closed_at__isnull=True).count(),
        "rooms": UnitRoom.objects.filter(unit=unit).count(),
        Fact.NAMED_ARCHIVIST.value: keepers.count(),
        "named_archivists": [k.name for k in keepers],
        Fact.LATE_FILING.value: late_filing,
        "as_of": today.isoformat(),
    }


def fact_is_good(fact: str, facts: dict) -> bool | None:
    """Whether the data show ``fact`` in order (None when the item has no fact behind it)."""
    if not fact or fact not in facts:
        return None
    if fact == Fact.NAMED_ARCHIVIST:
        return facts[fact] > 0
    return facts[fact] == 0


# --- Inspections, findings, ranking -----------------------------------------------------


def inspections_for(user) -> QuerySet[Inspection]:
    return Inspection.objects.filter(unit__in=units_for(user)).select_related("unit")


def open_findings(unit: Unit) -> QuerySet[Finding]:
    return Finding.objects.filter(inspection__unit=unit, closed_at__isnull=True).order_by(
        "due_on", "id"
    )


def ranking(user, year: int) -> list[Inspection]:
    """The units inspected in ``year``, best share of points first, with their open findings."""
    rows = list(
        inspections_for(user)
        .filter(year=year)
        .annotate(
            open_count=Count("findings", filter=Q(findings__closed_at__isnull=True)),
            finding_count=Count("findings"),
        )
    )
    rows.sort(key=lambda i: (-i.percent, i.open_count, i.unit.code))
    return rows


# --- Keepers ------------------------------------------------------------------------------


def active_keepers(*, on: datetime.date | None = None) -> QuerySet[Keeper]:
    on = on or timezone.localdate()
    return Keeper.objects.filter(Q(until__isnull=True) | Q(until__gt=on), since__lte=on)


def keepers_overview(user) -> list[dict]:
    """Every unit ``user`` may look at, with its keepers (see ``keeper_rows``)."""
    return keeper_rows(units_for(user))


def keeper_rows(units) -> list[dict]:
    """Each unit with its keepers in office and whether any of them is trained (a training
    course or a valid certificate), so that the county sees who has nobody named or trained."""
    today = timezone.localdate()
    units = list(units)
    keepers = {}
    trained_ids = set(
        Qualification.objects.filter(
            Q(kind=Qualification.Kind.TRAINING)
            | Q(kind=Qualification.Kind.CERTIFICATE, valid_until__isnull=True)
            | Q(kind=Qualification.Kind.CERTIFICATE, valid_until__gte=today)
        ).values_list("keeper_id", flat=True)
    )
    for keeper in active_keepers().filter(unit__in=units).order_by("name"):
        keeper.trained = keeper.pk in trained_ids
        keepers.setdefault(keeper.unit_id, []).append(keeper)
    rows = []
    for unit in units:
        named = keepers.get(unit.pk, [])
        rows.append(
            {
                "unit": unit,
                "keepers": named,
                "nobody_named": not named,
                "nobody_trained": not any(k.trained for k in named),
            }
        )
    return rows


def keepers_of(unit: Unit) -> QuerySet[Keeper]:
    return Keeper.objects.filter(unit=unit).prefetch_related("qualifications")


def unit_rooms(unit: Unit) -> QuerySet[UnitRoom]:
    return UnitRoom.objects.filter(unit=unit).select_related("room").order_by("room__code")


# --- Custody hand-over --------------------------------------------------------------------


def custody_contents(*, unit: Unit, outgoing) -> list[dict]:
    """What is in ``outgoing``'s custody for ``unit``: their grants (each with how many records
    it covers), the boxes holding the unit's records, the unit's open findings.

    Records are listed as scopes and counts, not titles: the witness and the incoming keeper
    sign for them before they may read them.
    """
    from dangan.stacks.models import Box

    items = []
    for grant in Grant.objects.filter(user=outgoing).select_related("fonds", "category", "unit"):
        records = visible_records(outgoing).filter(_grant_q(grant))
        items.append(
            {
                "kind": "records",
                "ref": f"grant:{grant.pk}",
                "description": str(grant).partition(": ")[2],
                "quantity": records.count(),
            }
        )
    boxes = (
        Box.objects.filter(placements__record__unit=unit)
        .annotate(n=Count("placements"))
        .select_related("shelf__room")
        .order_by("code")
        .distinct()
    )
    for box in boxes:
        where = box.shelf.code if box.shelf else "—"
        items.append(
            {
                "kind": "box",
                "ref": f"box:{box.pk}",
                "description": f"{box.code} ({where})",
                "quantity": box.n,
            }
        )
    items += _open_requests(unit)
    for finding in open_findings(unit):
        items.append(
            {
                "kind": "finding",
                "ref": f"finding:{finding.pk}",
                "description": f"{finding.text[:200]} ({finding.due_on:%Y-%m-%d})",
                "quantity": 1,
            }
        )
    return items


def _open_requests(unit: Unit) -> list[dict]:
    """Requests for the unit's records not yet answered and its paper files lent out, when the
    access app is installed: by number and count, never by title."""
    from django.apps import apps

    if not apps.is_installed("dangan.access"):
        return []
    request_model = apps.get_model("access", "AccessRequest")
    loan_model = apps.get_model("access", "Loan")
    items = []
    pending = list(
        request_model.objects.filter(
            record__unit=unit, state__in=["submitted", "approved"]
        ).values_list("number", flat=True)
    )
    if pending:
        items.append(
            {
                "kind": "request",
                "ref": "requests",
                "description": ", ".join(pending[:20]) + (" …" if len(pending) > 20 else ""),
                "quantity": len(pending),
            }
        )
    lent = loan_model.objects.filter(record__unit=unit, returned_at__isnull=True).count()
    if lent:
        items.append(
            {
                "kind": "loan",
                "ref": "loans",
                "description": _("Paper files of the unit not yet returned"),
                "quantity": lent,
            }
        )
    return items


def _grant_q(grant: Grant) -> Q:
    q = Q(secrecy__lte=grant.max_secrecy)
    if grant.fonds_id:
        q &= Q(fonds_id=grant.fonds_id)
    if grant.category_id:
        q &= Q(category_id=grant.category_id)
    if grant.unit_id:
        q &= Q(unit_id=grant.unit_id)
    return q


def custody_handovers_for(user) -> QuerySet[CustodyHandover]:
    """The county sees every hand-over; anyone else those they are a party to."""
    handovers = CustodyHandover.objects.select_related("unit", "outgoing", "incoming", "witness")
    if is_county(user):
        return handovers
    if not _active(user):
        return handovers.none()
    return handovers.filter(Q(outgoing=user) | Q(incoming=user) | Q(witness=user))


def party_of(handover: CustodyHandover, user) -> str | None:
    """Which party ``user`` signs as, or None."""
    for party in ("outgoing", "incoming", "witness"):
        if getattr(handover, f"{party}_id") == user.pk:
            return party
    return None
