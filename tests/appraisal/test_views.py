"""The appraisal pages: for archivists and leaders; batches and lists only for those concerned."""

import pytest
from django.urls import reverse

from dangan.accounts.models import Role
from dangan.appraisal import services
from dangan.appraisal.models import Batch, Hold

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "role", [Role.CITIZEN, Role.AUDITOR, Role.SYSTEM_ADMIN, Role.READING_CLERK, Role.UNIT_CLERK]
)
def test_other_roles_are_refused(make_user, logged_in, role):
    client = logged_in(make_user(role=role))
    for name in ("appraisal:overview", "appraisal:due", "appraisal:holds"):
        assert client.get(reverse(name)).status_code == 403


def test_archivist_places_a_hold_and_opens_a_batch_from_the_due_list(
    archivist, member, expired, logged_in
):
    held, due = expired(), expired()
    client = logged_in(archivist)
    page = client.get(reverse("appraisal:overview")).content.decode()
    assert "2001" in page

    response = client.post(
        reverse("appraisal:holds"),
        {"archival_code": held.archival_code, "kind": "dispute", "reason": "申诉中"},
    )
    assert response.status_code == 302
    assert Hold.objects.get().record == held
    page = client.get(reverse("appraisal:due")).content.decode()
    assert due.archival_code in page and held.archival_code not in page

    response = client.post(
        reverse("appraisal:batch-create"),
        {
            "kind": "retention",
            "title": "2026 到期鉴定",
            "members": [member.pk],
            "records": [due.pk],
        },
    )
    batch = Batch.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{batch.pk}/")
    member_page = logged_in(member).get(reverse("appraisal:batch-detail", args=[batch.pk]))
    assert member_page.status_code == 200 and due.archival_code in member_page.content.decode()


def test_member_decides_on_the_page_and_outsiders_get_404(
    archivist, member, make_user, expired, logged_in
):
    record = expired()
    batch = services.open_batch(
        actor=archivist, kind="retention", title="b", records=[record], members=[member]
    )
    item = batch.items.get()
    response = logged_in(member).post(
        reverse("appraisal:batch-detail", args=[batch.pk]),
        {"item": item.pk, "choice": "destroy", "reason": "到期", "new_retention": ""},
    )
    assert response.status_code == 302
    assert item.decisions.get().choice == "destroy"
    outsider = logged_in(make_user())
    assert outsider.get(reverse("appraisal:batch-detail", args=[batch.pk])).status_code == 404
    leader = logged_in(make_user(role=Role.LEADER))
    assert leader.get(reverse("appraisal:batch-detail", args=[batch.pk])).status_code == 404


def test_transfers_page_is_for_archivists(make_user, logged_in):
    assert logged_in(make_user(role=Role.LEADER)).get("/appraisal/transfers/").status_code == 403
    assert logged_in(make_user()).get("/appraisal/transfers/").status_code == 200
