"""``citizen_records`` and the public search: what a citizen and the public may read."""

import pytest

from dangan.audit.models import AuditEvent
from dangan.people.id_numbers import mask
from dangan.portal import selectors
from dangan.portal.masking import mask_name, mask_text

from .conftest import LI, WANG

pytestmark = pytest.mark.django_db


def test_an_unbound_citizen_sees_no_record(make_citizen, archive):
    assert not selectors.citizen_records(make_citizen()).exists()


def test_a_bound_citizen_sees_her_own_records_and_nothing_else(make_citizen, archive):
    li = make_citizen(person=LI)
    seen = set(selectors.citizen_records(li))
    assert seen == {archive["li_file"], archive["shared"]}  # not Wang's, not the secret one


def test_staff_get_nothing_from_the_citizen_selector(archivist, archive):
    assert not selectors.citizen_records(archivist).exists()


def test_the_portal_never_shows_secret_records_even_when_allowed_higher(
    make_citizen, archive, settings
):
    settings.DANGAN_PORTAL_MAX_SECRECY = 1
    assert archive["secret"] not in selectors.citizen_records(make_citizen(person=LI))


def test_other_persons_names_are_masked_own_name_shown(make_citizen, archive):
    wang = make_citizen(person=WANG)
    entries = {e.pk: e for e in selectors.my_records(wang)}
    shared = entries[archive["shared"].pk]
    assert "李秀英" not in shared.title and "李**" in shared.title
    assert "王建国" in shared.title
    assert set(shared.persons) == {"李**", "王建国"}


def test_reading_my_records_is_audited(make_citizen, archive):
    li = make_citizen(person=LI)
    selectors.my_records(li)
    selectors.my_record(li, archive["li_file"].pk)
    events = AuditEvent.objects.filter(actor=li, action=AuditEvent.Action.READ)
    assert events.count() == 2
    assert events.filter(object_id=str(archive["li_file"].pk)).exists()


def test_one_record_of_someone_else_does_not_exist_for_her(make_citizen, archive):
    from dangan.catalogue.models import Record

    with pytest.raises(Record.DoesNotExist):
        selectors.my_record(make_citizen(person=LI), archive["wang_file"].pk)


def test_masking():
    assert mask_name("张伟") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_text("萬平德退休档案", ["万平德"]) == "萬**退休档案"
    number = WANG["id_number"]
    assert mask_text(f"身份证 {number}") == f"身份证 {mask(number)}"


def test_public_search_finds_only_open_records(archive):
    results = selectors.public_search("退休")
    assert [e.pk for e in results.entries] == [archive["open"].pk]
    assert results.total == 1  # Li's and Wang's controlled files are not counted


def test_public_search_is_blind_to_simplified_or_traditional(archive):
    assert [e.pk for e in selectors.public_search("養老金").entries] == [archive["open"].pk]


@pytest.mark.parametrize("query", [LI["name"], LI["id_number"], LI["id_number"][-6:], "李秀英"])
def test_public_search_finds_no_person(archive, make_record, query):
    from dangan.accounts.models import Secrecy

    make_record(
        person=LI, title="李秀英养老金领取资格认证", secrecy=Secrecy.PUBLIC, openness="open"
    )
    assert selectors.public_search(query).total == 0


def test_public_search_masks_names_in_open_titles(archive, make_record):
    from dangan.accounts.models import Secrecy

    make_record(
        person=LI, title="李秀英养老金领取资格认证", secrecy=Secrecy.PUBLIC, openness="open"
    )
    titles = [e.title for e in selectors.public_search("资格认证").entries]
    assert titles == ["李**养老金领取资格认证"]
