"""Staff pages about persons (under /people/): search by name or ID number, and a person's
whole file (一人一档). Here, not in dangan.people: a person is read through the records the
reader may see, and the catalogue decides that."""

import re
import unicodedata
from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.people import id_numbers
from dangan.people.models import Person
from dangan.people.names import fold

from .selectors import may_browse_records, person_file, persons_opened_lately, visible_persons

RESULT_LIMIT = 100
_FULL_ID = re.compile(r"^(\d{17}[\dX]|\d{15})$")
_ID_TAIL = re.compile(r"^\d{3,5}[\dX]$")


def _match(q: str) -> tuple[Q | None, bool]:
    """The filter for a search text and whether it was an ID number (audited, masked)."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", q)).upper()
    if _FULL_ID.match(text):
        try:
            number = id_numbers.normalize(text).number
        except ValidationError:  # a wrong check digit: still look for the number as typed
            number = text
        return Q(id_number=number) | Q(id_number=text) | Q(id_number_15=text), True
    if _ID_TAIL.match(text):
        return Q(id_number__endswith=text), True
    if re.fullmatch(r"[\dX]+", text):
        return None, True
    return Q(name_folded=fold(q)), False


@login_required
def person_search(request):
    if not may_browse_records(request.user):
        raise PermissionDenied(_("The catalogue is for those who read records."))
    q = (request.GET.get("q") or "").strip()
    persons, by_id, message = [], False, ""
    if q:
        match, by_id = _match(q)
        if match is None:
            message = _("Give the whole ID number (18 or 15 digits) or its last 4 to 6 digits.")
        else:
            found = visible_persons(request.user).filter(match).order_by("name", "id_number")
            persons = [(p, id_numbers.mask(p.id_number)) for p in found[: RESULT_LIMIT + 1]]
        # Every search is audited (who looked up whom); an ID number is kept masked.
        text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", q)).upper()
        record_event(
            actor=request.user,
            action=AuditEvent.Action.SEARCH,
            object_type=Person._meta.label_lower,
            detail={"q": id_numbers.mask(text) if by_id else q, "found": len(persons)},
        )
    return render(
        request,
        "people/person_search.html",
        {
            "q": q,
            "persons": persons[:RESULT_LIMIT],
            "more": len(persons) > RESULT_LIMIT,
            "message": message,
            "lately": []
            if q
            else [(p, id_numbers.mask(p.id_number)) for p in persons_opened_lately(request.user)],
        },
    )


@login_required
def person_detail(request, pk):
    try:
        person, records = person_file(request.user, pk)
    except Person.DoesNotExist:
        raise Http404(_("No such person.")) from None
    groups = [
        (category, list(rows))
        for category, rows in groupby(records, key=lambda record: record.category)
    ]
    return render(
        request,
        "people/person_detail.html",
        {
            "person": person,
            "groups": groups,
        },
    )
