"""Lawful destruction: only an approved list destroys; afterwards only the tombstone remains."""

import io

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from dangan.appraisal import services
from dangan.appraisal.models import Batch, Choice, DestructionList, Tombstone
from dangan.catalogue.models import Record
from dangan.catalogue.services import update_record
from dangan.content.models import Blob, Page
from dangan.content.stores import get_store
from dangan.integrity.models import LedgerEntry
from dangan.people.id_numbers import mask
from dangan.people.models import Person
from dangan.search.selectors import search

from .conftest import PERSON

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposed(archivist, member, leader, expired):
    """A destruction list of one expired record, proposed by the archivist, for the leader."""
    record = expired(title="[张伟失业人员托管档案]", responsible="县就业局")
    batch = services.open_batch(
        actor=archivist, kind=Batch.Kind.RETENTION, title="2026", records=[record], members=[member]
    )
    services.decide(actor=member, item=batch.items.get(), choice=Choice.DESTROY, reason="expired")
    services.close_batch(actor=archivist, batch=batch)
    return services.propose_destruction(actor=archivist, batch=batch, approver=leader)


def _untouched(listing):
    record = listing.items.get().record
    record.refresh_from_db()
    assert record.state == Record.State.FILED
    assert Page.objects.filter(record=record).count() == 2
    assert DestructionList.objects.get(pk=listing.pk).state == DestructionList.State.PROPOSED
    assert not Tombstone.objects.exists()


def test_approval_destroys_content_and_leaves_a_tombstone(
    proposed, leader, django_capture_on_commit_callbacks
):
    record = proposed.items.get().record
    original = Page.objects.filter(record=record).first()
    derived = Page.objects.create(
        record=record,
        blob=original.blob,
        position=1,
        role=Page.Role.DERIVATIVE,
        derived_from=original,
        filename="p1.pdf",
    )
    Page.objects.create(
        record=record,
        blob=original.blob,
        position=2,
        role=Page.Role.DERIVATIVE,
        derived_from=derived,
        filename="p1-small.jpg",
    )
    keys = [page.blob.key for page in Page.objects.filter(record=record)]
    store = get_store()
    assert all(store.exists(key) for key in keys)

    with django_capture_on_commit_callbacks(execute=True):
        services.approve_destruction(actor=leader, listing=proposed, note="同意销毁")

    record.refresh_from_db()
    assert record.state == Record.State.DESTROYED
    assert (record.metadata, record.responsible, record.date) == ({}, "", None)
    assert record.archival_code and record.title == ""  # a person file's title names them
    assert not record.persons.exists()
    assert not Page.objects.filter(record=record).exists()
    assert not Blob.objects.filter(sha256__in=[k.rsplit("/", 1)[1] for k in keys]).exists()
    assert not any(store.exists(key) for key in keys)
    tombstone = Tombstone.objects.get(record=record)
    assert (tombstone.archival_code, tombstone.year, tombstone.pages_removed) == (
        record.archival_code,
        2001,
        4,
    )
    assert tombstone.approved_by == leader.username and tombstone.destruction_list == proposed
    assert tombstone.title == ""
    kinds = list(
        LedgerEntry.objects.filter(kind__in=["record.destroyed", "content.removed"]).values_list(
            "kind", flat=True
        )
    )
    assert sorted(kinds) == ["content.removed", "content.removed", "record.destroyed"]
    # The list, its approval and the tombstone are kept for good.
    with pytest.raises(Exception):  # noqa: B017 - ProtectedError or PermissionDenied
        Record.objects.filter(pk=record.pk).delete()
    with pytest.raises(Exception):  # noqa: B017
        DestructionList.objects.filter(pk=proposed.pk).delete()


def test_dangan_verify_passes_after_destruction(
    proposed, leader, django_capture_on_commit_callbacks
):
    from dangan.integrity.verify import verify

    with django_capture_on_commit_callbacks(execute=True):
        services.approve_destruction(actor=leader, listing=proposed)

    report, _run = verify(seal=False)
    assert report.passed, report.problems


def test_the_certificate_is_a_pdf(proposed, leader, logged_in):
    services.approve_destruction(actor=leader, listing=proposed)
    response = logged_in(leader).get(
        reverse("appraisal:destruction-certificate", args=[proposed.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    from tests.pdf_glyphs import assert_pdfa_2b

    assert_pdfa_2b(response.content)  # kept for good: PDF/A-2b, its Chinese font embedded


def test_after_destruction_search_person_pages_and_exports_show_only_the_tombstone(
    proposed, archivist, leader, logged_in, exported
):
    record = proposed.items.get().record
    person = Person.objects.get(id_number=PERSON["id_number"])
    assert search(archivist, PERSON["id_number"]).total == 1

    services.approve_destruction(actor=leader, listing=proposed)

    # Search: the person's name and number find nothing; the tombstone's title still does.
    assert search(archivist, PERSON["id_number"]).total == 0
    assert search(archivist, "县就业局").total == 0
    hits = search(archivist, record.archival_code)
    assert hits.total == 1
    client = logged_in(archivist)
    # Person page: the destroyed file is no longer theirs to show.
    page = client.get(reverse("people:person-detail", args=[person.pk]))
    assert page.status_code == 404 or record.archival_code not in page.content.decode()
    # Record page: the tombstone, no personal data.
    page = client.get(reverse("catalogue:record-detail", args=[record.pk])).content.decode()
    assert record.archival_code in page and "县就业局" not in page
    assert PERSON["id_number"] not in page and mask(PERSON["id_number"]) not in page
    # The Excel export: the tombstone's row, nothing personal.
    content = exported(client, client.get(reverse("catalogue:record-export")))
    cells = [str(c) for row in load_workbook(io.BytesIO(content)).active.values for c in row if c]
    assert record.archival_code in cells
    assert "县就业局" not in cells and PERSON["name"] not in " ".join(cells)


def test_a_tombstone_cannot_be_changed(proposed, archivist, leader):
    services.approve_destruction(actor=leader, listing=proposed)
    record = Record.objects.get(pk=proposed.items.get().record_id)
    with pytest.raises(Exception) as refused:  # noqa: B017
        update_record(actor=archivist, record=record, values={"title": "revived"})
    assert "destroyed" in str(refused.value)


# --- Every entry point refuses destruction without approval -----------------------------------
def test_page_refuses_approval_by_anyone_but_the_designated_head(
    proposed, archivist, member, make_user, logged_in
):
    from dangan.accounts.models import Role

    url = reverse("appraisal:destruction-approve", args=[proposed.pk])
    for user in (archivist, member, make_user(role=Role.LEADER)):
        response = logged_in(user).post(url)
        assert response.status_code in (302, 403, 404)
    _untouched(proposed)


def test_page_approval_by_the_head_destroys(proposed, leader, logged_in):
    response = logged_in(leader).post(
        reverse("appraisal:destruction-approve", args=[proposed.pk]), {"note": "同意"}
    )
    assert response.status_code == 302
    assert DestructionList.objects.get(pk=proposed.pk).state == DestructionList.State.DESTROYED


def test_api_offers_no_way_to_delete_or_change_a_record(proposed, archivist, leader, logged_in):
    record = proposed.items.get().record
    client = logged_in(archivist)
    url = f"/api/v1/records/{record.pk}/"
    assert client.delete(url).status_code == 405
    _untouched(proposed)
    services.approve_destruction(actor=leader, listing=proposed)
    response = client.patch(url, {"title": "revived"}, content_type="application/json")
    assert response.status_code in (400, 403, 404, 409)
    assert Record.objects.get(pk=record.pk).title != "revived"


def test_command_refuses_approval_without_the_head(proposed, archivist, leader):
    for user in (archivist.username, "nobody"):
        with pytest.raises(CommandError):
            call_command("appraisal", "approve", str(proposed.pk), "--as", user)
    _untouched(proposed)
    call_command("appraisal", "approve", str(proposed.pk), "--as", leader.username)
    assert DestructionList.objects.get(pk=proposed.pk).state == DestructionList.State.DESTROYED
    with pytest.raises(CommandError):  # once only
        call_command("appraisal", "approve", str(proposed.pk), "--as", leader.username)


def test_admin_has_no_way_to_delete_a_record():
    assert Record not in admin.site._registry
    assert Tombstone not in admin.site._registry
    for model, model_admin in admin.site._registry.items():
        for inline in getattr(model_admin, "inlines", []):
            assert inline.model is not Record, model


def test_orm_deletion_of_a_tombstone_is_refused(proposed, leader):
    services.approve_destruction(actor=leader, listing=proposed)
    tombstone = Tombstone.objects.get()
    record = Record.objects.get(pk=tombstone.record_id)
    with pytest.raises((PermissionDenied, Exception)):
        record.delete()
    assert Record.objects.filter(pk=record.pk).exists()


def test_admin_cannot_delete_a_record_through_its_fonds_or_category(proposed, make_user, logged_in):
    from dangan.accounts.models import Role

    record = proposed.items.get().record
    client = logged_in(make_user(role=Role.SYSTEM_ADMIN, grants=()))
    for name, pk in (
        ("admin:catalogue_fonds_delete", record.fonds_id),
        ("admin:catalogue_category_delete", record.category_id),
    ):
        client.post(reverse(name, args=[pk]), {"post": "yes"})
    assert Record.objects.filter(pk=record.pk).exists()
    _untouched(proposed)
