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
