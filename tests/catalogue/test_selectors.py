"""The one permission-aware selector: grants by fonds, category, unit and secrecy level."""

from dangan.accounts.models import Role, Secrecy, Unit
from dangan.audit.models import AuditEvent
from dangan.catalogue.models import Category, Fonds, Record
from dangan.catalogue.selectors import browse_records, read_record, visible_records

PERSON = {"id_number": "320925194304016802", "name": "罗凤秀"}


def test_user_without_grants_sees_nothing(make_user, make_record):
    make_record()
    assert not visible_records(make_user(grants=())).exists()


def test_category_grant_limits_to_that_category(make_user, make_record):
    tx = Category.objects.get(code="TX")
    mine = make_record(category=tx)
    make_record()  # SYTG
    user = make_user(grants=[{"category": tx, "max_secrecy": Secrecy.CONFIDENTIAL}])
    assert list(visible_records(user)) == [mine]


def test_secrecy_above_the_grant_is_invisible(make_user, make_record):
    make_record(secrecy=Secrecy.SECRET)
    internal = make_record(secrecy=Secrecy.INTERNAL)
    user = make_user(grants=[{"max_secrecy": Secrecy.INTERNAL}])
    assert list(visible_records(user)) == [internal]


def test_fonds_and_unit_grants_narrow(make_user, make_record):
    town = Unit.objects.create(code="T01", name="上冈镇", kind=Unit.Kind.TOWN)
    other = Fonds.objects.create(code="B002", name="县社保中心")
    in_town = make_record(unit=town)
    make_record(fonds=other, unit=town)
    make_record()
    fonds = Fonds.objects.get(code="A001")
    user = make_user(grants=[{"fonds": fonds, "unit": town, "max_secrecy": Secrecy.CONFIDENTIAL}])
    assert list(visible_records(user)) == [in_town]


def test_grants_add_up(make_user, make_record):
    tx, yb = Category.objects.get(code="TX"), Category.objects.get(code="YB")
    a, b = make_record(category=tx), make_record(category=yb)
    make_record()
    user = make_user(grants=[{"category": tx}, {"category": yb}])
    assert set(visible_records(user)) == {a, b}


def test_administrators_of_the_three_roles_read_no_records(make_user, make_record):
    make_record()
    for role in (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR):
        assert not visible_records(make_user(role=role)).exists()


def test_lookup_by_id_tail_15_digit_form_and_name(archivist, make_record):
    record = make_record(person={"id_number": "320981550404885", "name": "孔梅兰"})
    make_record(person=PERSON)
    assert list(browse_records(archivist, q="048855")) == [record]
    assert list(browse_records(archivist, q="320981550404885")) == [record]
    assert list(browse_records(archivist, q="320981195504048855")) == [record]
    assert list(browse_records(archivist, q="孔梅兰")) == [record]


def test_reading_a_record_is_audited(archivist, make_record):
    record = make_record(person=PERSON)
    read_record(archivist, record.pk)
    event = AuditEvent.objects.filter(action="read").latest("id")
    assert (event.actor, event.object_id) == (archivist, str(record.pk))


def test_reading_an_invisible_record_looks_like_a_missing_one(make_user, make_record):
    record = make_record(secrecy=Secrecy.SECRET)
    user = make_user(grants=[{"max_secrecy": Secrecy.INTERNAL}])
    try:
        read_record(user, record.pk)
    except Record.DoesNotExist:
        pass
    else:
        raise AssertionError("an invisible record was returned")


def test_name_lookup_treats_simplified_and_traditional_alike(archivist, make_record):
    record = make_record(person={"id_number": "320925195701242920", "name": "萬平德"})
    assert list(browse_records(archivist, q="万平德")) == [record]
    assert list(browse_records(archivist, q="萬平德")) == [record]


def test_a_name_on_more_records_than_are_listed_as_ids_still_finds_them_all(
    archivist, make_record, monkeypatch
):
    from dangan.catalogue import selectors

    records = {
        make_record(person={"id_number": "320925195701242920", "name": "万平德"}) for _ in "123"
    }
    other = make_record(person=PERSON)
    for most in (5000, 2):  # the ids in the query, and the subquery for a name on many records
        monkeypatch.setattr(selectors, "LINKED_IDS_MAX", most)
        assert set(browse_records(archivist, q="万平德")) == records
        assert other not in browse_records(archivist, q="万平德")
