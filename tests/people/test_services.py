"""Every legitimate change of a person or a link goes through ``people.services``: audited with
who and why, in the ledger (the person's entry and each record's new digest), shown on the
record's history — and ``dangan verify`` stays clean after each."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from dangan.audit.models import AuditEvent
from dangan.catalogue.services import update_record
from dangan.integrity.models import LedgerEntry
from dangan.integrity.verify import verify
from dangan.people.models import Person, RecordPerson
from dangan.people.services import (
    check_person,
    correct_person,
    merge_persons,
    resolve_persons,
    undo_merge,
)

A = {"id_number": "110101199003071233", "name": "成文刚"}
B = {"id_number": "110101198512120027", "name": "成文钢"}
# A 15-digit number and the 18-digit number it upgrades to.
OLD_15 = "110101900307123"
UPGRADED = "110101199003071233"


@pytest.fixture(autouse=True)
def places(settings, tmp_path):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    settings.DANGAN_LEDGER_WITNESS_DIR = str(tmp_path / "witness")


def clean():
    report, _run = verify(seal=False, read_blobs=False, keep=False)
    assert report.passed, report.problems
    return report


def entries(subject):
    return list(
        LedgerEntry.objects.filter(subject=subject).order_by("seq").values_list("kind", flat=True)
    )


def person(data, actor):
    return resolve_persons(actor=actor, entries=[check_person(**data)])[data["id_number"]]


def test_a_new_person_enters_the_ledger_with_their_record(make_record, archivist):
    record = make_record(actor=archivist, person=A)
    a = Person.objects.get(id_number=A["id_number"])
    assert entries(f"person:{a.pk}") == ["person.added"]
    filed = LedgerEntry.objects.get(subject=f"record:{record.pk}")
    assert " persons:" in filed.digest
    assert f'[[{a.pk},"subject"]]' in filed.details
    assert clean().counts["persons"] == 1


def test_correcting_a_name_is_audited_with_the_reason_and_in_the_ledger(
    make_record, archivist, logged_in
):
    records = [make_record(actor=archivist, person=A) for _ in range(2)]
    a = Person.objects.get(id_number=A["id_number"])
    correct_person(actor=archivist, person=a, name="成文钢", reason="登记表笔误，据户口簿更正")
    a.refresh_from_db()
    assert (a.name, a.name_folded) == ("成文钢", "成文钢")
    assert entries(f"person:{a.pk}") == ["person.added", "person.changed"]
    for record in records:
        assert entries(f"record:{record.pk}") == ["record.filed", "record.changed"]
    event = AuditEvent.objects.filter(object_type="people.person", action="update").get()
    assert (event.before, event.after) == ({"name": "成文刚"}, {"name": "成文钢"})
    assert event.detail == {"reason": "登记表笔误，据户口簿更正"}
    assert event.actor_name == archivist.username
    clean()

    url = reverse("catalogue:record-detail", args=[records[0].pk])
    page = logged_in(archivist).get(url).content.decode()
    assert "登记表笔误，据户口簿更正" in page
    assert "成文刚</del>" in page and "成文钢</ins>" in page


def test_a_correction_needs_a_reason_and_the_right_to_edit(make_record, archivist, make_user):
    make_record(actor=archivist, person=A)
    a = Person.objects.get(id_number=A["id_number"])
    with pytest.raises(ValidationError) as error:
        correct_person(actor=archivist, person=a, name="成文钢", reason="  ")
    assert error.value.code == "reason_missing"
    reader = make_user(role="reading_clerk")
    with pytest.raises(PermissionDenied):
        correct_person(actor=reader, person=a, name="成文钢", reason="x")
    assert Person.objects.get(pk=a.pk).name == "成文刚"


def test_the_15_digit_number_upgraded_to_18_keeps_the_old_form(make_record, archivist):
    record = make_record(actor=archivist, person=B)
    b = Person.objects.get(id_number=B["id_number"])
    correct_person(actor=archivist, person=b, id_number=OLD_15, reason="按老身份证号升位")
    b.refresh_from_db()
    assert (b.id_number, b.id_number_15) == (UPGRADED, OLD_15)
    assert b.birth_date.isoformat() == "1990-03-07"
    assert entries(f"record:{record.pk}")[-1] == "record.changed"
    event = AuditEvent.objects.filter(object_type="people.person", action="update").get()
    assert UPGRADED not in str(event.after)  # masked in the trail
    clean()


def test_a_number_on_file_for_another_row_is_refused_merge_instead(make_record, archivist):
    make_record(actor=archivist, person=A)
    make_record(actor=archivist, person=B)
    b = Person.objects.get(id_number=B["id_number"])
    with pytest.raises(ValidationError) as error:
        correct_person(actor=archivist, person=b, id_number=A["id_number"], reason="x")
    assert error.value.code == "id_on_file"


def test_merging_two_rows_moves_the_links_and_undo_puts_them_back(make_record, archivist):
    first = make_record(actor=archivist, person=A)
    second = make_record(actor=archivist, person=B)
    both = make_record(actor=archivist, person=A)
    a, b = (Person.objects.get(id_number=p["id_number"]) for p in (A, B))
    update_record(actor=archivist, record=both, persons=[a, b], reason="同一人两行")
    with pytest.raises(ValidationError):
        merge_persons(actor=archivist, kept=a, merged=b, reason="")

    merge = merge_persons(actor=archivist, kept=a, merged=b, reason="同一人，号码录错，经科长批准")
    b.refresh_from_db()
    assert b.merged_into == a  # the row is kept
    assert set(a.records.values_list("pk", flat=True)) == {first.pk, second.pk, both.pk}
    assert not RecordPerson.objects.filter(person=b).exists()
    assert entries(f"person:{b.pk}")[-1] == "person.merged"
    assert entries(f"person:{a.pk}")[-1] == "person.merged"
    assert entries(f"record:{second.pk}")[-1] == "record.changed"
    # a register naming the merged number finds the person it was merged into
    assert person(B | {"name": "成文钢"}, archivist) == a
    clean()

    undo_merge(actor=archivist, merge=merge, reason="合并有误：两个人")
    b.refresh_from_db()
    assert b.merged_into is None
    assert list(second.persons.all()) == [b]
    assert list(both.person_links.order_by("position").values_list("person", flat=True)) == [
        a.pk,
        b.pk,
    ]
    assert entries(f"person:{b.pk}")[-1] == "person.unmerged"
    with pytest.raises(ValidationError):
        undo_merge(actor=archivist, merge=merge, reason="again")
    clean()
    history = AuditEvent.objects.filter(object_type="catalogue.record", object_id=str(second.pk))
    assert [e.detail.get("reason") for e in history.filter(action="update").order_by("id")] == [
        "同一人，号码录错，经科长批准",
        "合并有误：两个人",
    ]


def test_linking_in_the_form_is_audited_with_the_reason_and_in_the_ledger(make_record, archivist):
    record = make_record(actor=archivist, person=A)
    b = person(B, archivist)
    a = Person.objects.get(id_number=A["id_number"])
    update_record(actor=archivist, record=record, persons=[b, a], reason="补录配偶")
    assert list(record.person_links.order_by("position").values_list("person", flat=True)) == [
        b.pk,
        a.pk,
    ]
    event = AuditEvent.objects.filter(
        object_type="catalogue.record", object_id=str(record.pk), action="update"
    ).get()
    assert (event.before, event.after) == ({"persons": [a.pk]}, {"persons": [b.pk, a.pk]})
    assert entries(f"record:{record.pk}") == ["record.filed", "record.changed"]
    # nothing changes, nothing is written
    update_record(actor=archivist, record=record, persons=[b, a])
    assert entries(f"record:{record.pk}") == ["record.filed", "record.changed"]
    clean()
