"""Creating, filing and changing records: DA/T 18 checks, rights, audit."""

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder

from dangan.accounts.models import Secrecy
from dangan.audit.models import AuditEvent
from dangan.audit.services import verify_chain
from dangan.catalogue.models import Category, Record
from dangan.catalogue.services import create_record, file_record, update_record

BASE = {
    "title": "[测试]",
    "year": 2001,
    "date": datetime.date(2001, 5, 1),
    "responsible": "县人社局",
    "openness": "controlled",
}


def test_filing_needs_the_required_da_t_18_elements(fonds, category):
    with pytest.raises(ValidationError) as error:
        create_record(
            actor=None,
            fonds=fonds,
            category=category,
            values={**BASE, "responsible": "", "date": None},
        )
    assert set(error.value.message_dict) == {"responsible", "date"}
    assert not Record.objects.exists()


def test_a_draft_gets_its_code_only_when_filed(fonds, category):
    draft = create_record(
        actor=None, fonds=fonds, category=category, values={**BASE, "responsible": ""}, file=False
    )
    assert draft.archival_code is None
    with pytest.raises(ValidationError):
        file_record(actor=None, record=draft)
    update_record(actor=None, record=draft, values={"responsible": "县人社局"})
    filed = file_record(actor=None, record=draft)
    assert filed.archival_code == "A001-SYTG·2001-D50-0001"


def test_metadata_is_checked_against_the_category_schema(fonds):
    kg = Category.objects.get(code="KG")
    with pytest.raises(ValidationError) as error:
        create_record(
            actor=None,
            fonds=fonds,
            category=kg,
            values=BASE,
            metadata={"grade": "特级工", "theory_score": "很高", "colour": "red"},
        )
    assert set(error.value.message_dict) == {"grade", "theory_score", "colour"}
    record = create_record(
        actor=None,
        fonds=fonds,
        category=kg,
        values=BASE,
        metadata={"grade": "高级工", "theory_score": "79", "test_date": "2009年12月"},
    )
    assert record.metadata == {"grade": "高级工", "theory_score": 79, "test_date": "2009-12"}


def test_code_parts_of_a_filed_record_cannot_be_edited(make_record):
    record = make_record()
    with pytest.raises(ValidationError) as error:
        update_record(actor=None, record=record, values={"year": 1999})
    assert error.value.message_dict.keys() == {"year"}


def test_archivist_outside_grant_cannot_file_or_change(make_user, make_record, fonds, category):
    tx_only = make_user(grants=[{"category": Category.objects.get(code="TX")}])
    with pytest.raises(PermissionDenied):
        create_record(actor=tx_only, fonds=fonds, category=category, values=BASE)
    with pytest.raises(PermissionDenied):
        update_record(actor=tx_only, record=make_record(), values={"title": "[改]"})


def test_reading_room_clerk_cannot_change_records(make_user, make_record):
    from dangan.accounts.models import Role

    clerk = make_user(role=Role.READING_CLERK)
    with pytest.raises(PermissionDenied):
        update_record(actor=clerk, record=make_record(), values={"title": "[改]"})


def test_every_change_is_in_the_audit_trail_with_before_and_after(archivist, make_record):
    record = make_record(actor=archivist)
    update_record(
        actor=archivist, record=record, values={"title": "[新题名]", "secrecy": Secrecy.PUBLIC}
    )
    events = AuditEvent.objects.filter(object_type="catalogue.record", object_id=str(record.pk))
    created, changed = events.order_by("id")
    assert created.action == "create" and created.actor == archivist
    assert changed.before == {"title": "[测试档案1]", "secrecy": Secrecy.INTERNAL}
    assert changed.after == {"title": "[新题名]", "secrecy": Secrecy.PUBLIC}
    assert verify_chain() == []


def test_an_audit_row_edited_behind_the_applications_back_breaks_the_chain(make_record):
    make_record()
    make_record()
    first = AuditEvent.objects.order_by("id").first()
    AuditEvent.objects.filter(pk=first.pk).update(actor_name="someone else")
    assert verify_chain() == [first.pk]


def test_retention_counts_from_the_first_of_january_after_the_year(make_record):
    assert make_record(year=2001, retention="D10").retention_expires == datetime.date(2012, 1, 1)
    assert make_record(retention="Y").retention_expires is None


def test_records_are_not_filed_in_a_group_of_the_scheme(fonds):
    group = Category.objects.get(code="SB")
    assert group.children.filter(code="TX").exists()
    with pytest.raises(ValidationError) as error:
        create_record(actor=None, fonds=fonds, category=group, values=BASE)
    assert error.value.error_dict["category"][0].code == "group_category"


@pytest.mark.parametrize(
    "values, field, code",
    [
        ({"title": "长" * 501}, "title", "max_length"),
        ({"title": ""}, "title", "blank"),
        ({"openness": "half-open"}, "openness", "invalid_choice"),
        ({"retention": "D7"}, "retention", "invalid_choice"),
        ({"box_number": "9" * 41}, "box_number", "max_length"),
        ({"legacy_number": 1234}, None, None),  # a number where text goes: taken as its text
    ],
)
def test_every_field_check_still_refuses_what_it_refused(fonds, category, values, field, code):
    """Creating records skips Django's field cleaning for values a quick test accepts (fast
    imports); whatever the quick test does not accept is still cleaned and refused by Django."""
    if field is None:
        record = create_record(
            actor=None, fonds=fonds, category=category, values={**BASE, **values}
        )
        record.refresh_from_db()
        assert record.legacy_number == "1234"
        return
    with pytest.raises(ValidationError) as error:
        create_record(actor=None, fonds=fonds, category=category, values={**BASE, **values})
    assert [e.code for e in error.value.error_dict[field]] == [code]
    assert not Record.objects.exists()


def test_records_created_in_a_batch_are_audited_and_digested_as_one_at_a_time(
    archivist, fonds, category
):
    """The batch path encodes each record's state once for the audit trail and the ledger: what
    it stores is what ``snapshot`` and ``metadata_digest`` say, read back from the database."""
    from stdnum.cn import ric

    from dangan.catalogue.services import RecordDraft, create_records, metadata_digest, snapshot
    from dangan.integrity.models import LedgerEntry
    from dangan.people.services import check_person, resolve_persons

    body = "32092519680304011"
    number = body + ric.calc_check_digit(body + "0")
    person = list(
        resolve_persons(
            actor=archivist, entries=[check_person(id_number=number, name="王芳")]
        ).values()
    )[0]
    drafts = [
        RecordDraft(
            fonds=fonds,
            category=category,
            values={
                "title": '[通知 "引号" ,"public_attribute":]',
                "date": datetime.date(2001, 5, n),
                "responsible": "县人社局",
                "remarks": "备注\n第二行",
            },
            persons=[person] if n == 1 else [],
            file=n == 1,
        )
        for n in (1, 2)
    ]
    records = create_records(actor=archivist, drafts=drafts)
    for record, draft in zip(records, drafts, strict=True):
        stored = Record.objects.get(pk=record.pk)
        event = AuditEvent.objects.get(
            object_type="catalogue.record", object_id=str(record.pk), action="create"
        )
        expected = snapshot(stored)
        if draft.persons:
            expected["persons"] = [person.pk]
        assert event.after == json.loads(json.dumps(expected, cls=DjangoJSONEncoder))
        entry = LedgerEntry.objects.filter(subject=f"record:{record.pk}").latest("seq")
        assert entry.digest == metadata_digest(stored)
    assert verify_chain() == []


def test_the_filing_date_is_indexed_for_the_lists_and_statistics_that_filter_by_it(db):
    """The annual statistics (records filed in a year) and the advanced search's filing-date
    range filter ``Record.filed_at``: an index, not a scan of every record."""
    from django.db import connection

    from dangan.catalogue.models import Record

    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, Record._meta.db_table)
    assert any(c["index"] and c["columns"] == ["filed_at"] for c in found.values())
