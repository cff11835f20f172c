"""Relations between records: made on one record, shown on both in their own words, audited,
and hidden where the reader may not see the other record."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from dangan.accounts.models import Secrecy
from dangan.audit.models import AuditEvent
from dangan.catalogue import relations
from dangan.catalogue.models import Category, RecordRelation


@pytest.mark.django_db
def test_a_reply_is_shown_on_both_records_and_audited_on_both(make_record, archivist, client):
    request = make_record(title="关于补发养老金的申请")
    reply = make_record(title="关于补发养老金申请的答复")
    client.force_login(archivist)
    client.post(
        reverse("catalogue:relation-add", args=[reply.pk]),
        {"kind": "reply", "code": request.archival_code},
    )
    assert RecordRelation.objects.filter(source=reply, target=request, kind="reply").exists()
    on_reply = client.get(reverse("catalogue:record-detail", args=[reply.pk])).content.decode()
    on_request = client.get(reverse("catalogue:record-detail", args=[request.pk]))
    assert request.title in on_reply
    assert reply.title in on_request.content.decode()
    for record in (request, reply):
        assert AuditEvent.objects.filter(
            object_id=str(record.pk), detail__change="relation_added"
        ).exists()
    with pytest.raises(ValidationError):
        relations.link_records(actor=archivist, source=reply, target=request, kind="reply")
    with pytest.raises(ValidationError):
        relations.link_records(actor=archivist, source=reply, target=reply, kind="see_also")

    relation = RecordRelation.objects.get()
    client.post(reverse("catalogue:relation-remove", args=[reply.pk, relation.pk]))
    assert not RecordRelation.objects.exists()
    assert AuditEvent.objects.filter(detail__change="relation_removed").count() == 2


@pytest.mark.django_db
def test_a_relation_to_a_record_the_reader_may_not_see_is_not_shown(
    make_record, archivist, make_user
):
    attachment = make_record(title="附件：工资明细")
    other = Category.objects.get(code="TX")
    main = make_record(title="退休审批表", category=other)
    relations.link_records(actor=None, source=attachment, target=main, kind="attachment")
    shown = relations.record_relations(archivist, main)
    assert [(s.label, s.other) for s in shown] == [("Has the attachment", attachment)]
    narrow = make_user(grants=[{"category": other, "max_secrecy": Secrecy.CONFIDENTIAL}])
    assert relations.record_relations(narrow, main) == []


@pytest.mark.django_db
def test_a_relation_is_under_the_ledger_and_verify_names_one_changed_behind_its_back(
    make_record, archivist
):
    from dangan.integrity.models import LedgerEntry
    from dangan.integrity.verify import verify

    request = make_record(title="申请")
    reply = make_record(title="答复")
    relation = relations.link_records(actor=archivist, source=reply, target=request, kind="reply")
    subject = f"relation:{reply.pk}:{request.pk}:reply"
    entry = LedgerEntry.objects.get(kind="record.related")
    assert entry.subject == subject and entry.actor == archivist.username
    report, _run = verify(seal=False, keep=False)
    assert report.passed, report.problems
    assert report.counts["relations"] == 1

    relations.unlink_records(actor=archivist, relation=relation)
    assert LedgerEntry.objects.filter(kind="record.unrelated", subject=subject).exists()
    assert verify(seal=False, keep=False)[0].passed

    # A relation written into the database directly, and one deleted there, are named.
    RecordRelation.objects.create(source=request, target=reply, kind="see_also")
    kept = relations.link_records(actor=archivist, source=reply, target=request, kind="supersedes")
    RecordRelation.objects.filter(pk=kept.pk).delete()
    report, _run = verify(seal=False, keep=False)
    named = {(p["kind"], p["subject"]) for p in report.problems}
    assert named == {
        ("link", f"relation:{request.pk}:{reply.pk}:see_also"),
        ("link", f"relation:{reply.pk}:{request.pk}:supersedes"),
    }
    assert all(f"record:{reply.pk}" in p["objects"] for p in report.problems)


@pytest.mark.django_db
def test_relations_made_before_the_ledger_kept_them_are_anchored_by_the_migration(
    make_record, archivist
):
    from django.apps import apps as live_apps
    from django.db import connection

    from dangan.integrity.models import LedgerEntry
    from dangan.integrity.verify import verify

    anchor = __import__(
        "dangan.integrity.migrations.0006_relations_in_ledger", fromlist=["anchor"]
    ).anchor
    a, b = make_record(), make_record()
    RecordRelation.objects.create(source=a, target=b, kind="attachment")  # as an old version did
    assert not verify(seal=False, keep=False)[0].passed
    anchor(live_apps, connection.schema_editor())
    entry = LedgerEntry.objects.get(kind="record.related")
    assert entry.subject == f"relation:{a.pk}:{b.pk}:attachment"
    anchor(live_apps, connection.schema_editor())  # again: nothing more
    assert LedgerEntry.objects.filter(kind="record.related").count() == 1
    report, _run = verify(seal=False, keep=False)
    assert report.passed, report.problems
