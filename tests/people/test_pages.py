"""Person search and a person's file, as a clerk at the counter uses them."""

import pytest
from django.urls import reverse
from stdnum.cn import ric

from dangan.audit.models import AuditEvent
from dangan.catalogue.models import Category
from dangan.people.models import Person


def id_number(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


WAN = id_number("36042119620315001")
WAN_OLD = WAN[:6] + WAN[8:17]
LI = id_number("36042119700101002")


@pytest.fixture
def tx(db):
    return Category.objects.get(code="TX")


@pytest.fixture
def files(make_record, tx):
    """万平德's custody file in traditional characters, his retirement file in simplified."""
    custody = make_record(
        title="萬平德失业人员托管档案", person={"id_number": WAN, "name": "萬平德"}
    )
    retired = make_record(
        title="万平德企业职工退休档案", category=tx, person={"id_number": WAN, "name": "万平德"}
    )
    make_record(title="李某档案", person={"id_number": LI, "name": "李秀英"})
    return custody, retired


@pytest.mark.parametrize("q", ["万平德", "萬平德", " 万 平 德 "])
def test_name_search_ignores_simplified_or_traditional(logged_in, archivist, files, q):
    response = logged_in(archivist).get(reverse("people:person-search"), {"q": q})
    assert [p.name for p, _masked in response.context["persons"]] == ["萬平德"]


@pytest.mark.parametrize("q", [WAN, WAN_OLD, WAN[-4:], WAN[-6:], WAN.replace("3", "３")])
def test_id_search_finds_the_person_with_the_number_masked(logged_in, archivist, files, q):
    response = logged_in(archivist).get(reverse("people:person-search"), {"q": q})
    assert [p.id_number for p, _masked in response.context["persons"]] == [WAN]
    results = response.content.decode().split('<table class="persons">')[1]
    assert WAN not in results and WAN[:6] + "********" + WAN[-4:] in results
    event = AuditEvent.objects.filter(action="search").latest("id")
    assert WAN not in str(event.detail) and event.detail["found"] == 1


def test_person_page_shows_the_full_number_and_records_by_category(logged_in, archivist, files):
    person = Person.objects.get(id_number=WAN)
    response = logged_in(archivist).get(reverse("people:person-detail", args=[person.pk]))
    page = response.content.decode()
    assert WAN in page
    assert {c.code for c, _records in response.context["groups"]} == {"TX", "SYTG"}
    assert "萬平德失业人员托管档案" in page and "万平德企业职工退休档案" in page
    assert "李某档案" not in page
    assert AuditEvent.objects.filter(
        action="read", object_type="people.person", object_id=str(person.pk)
    ).exists()


def test_user_granted_only_tx_sees_only_tx_records_and_persons(make_user, logged_in, files, tx):
    client = logged_in(make_user(grants=[{"category": tx, "max_secrecy": 3}]))
    person = Person.objects.get(id_number=WAN)
    page = client.get(reverse("people:person-detail", args=[person.pk])).content.decode()
    assert "万平德企业职工退休档案" in page and "萬平德失业人员托管档案" not in page
    found = client.get(reverse("people:person-search"), {"q": "李秀英"}).context["persons"]
    assert found == []
    li = Person.objects.get(id_number=LI)
    assert client.get(reverse("people:person-detail", args=[li.pk])).status_code == 404


def test_the_people_page_starts_with_how_to_search_and_the_persons_opened_lately(
    logged_in, archivist, make_user, files
):
    client = logged_in(archivist)
    empty = client.get(reverse("people:person-search")).content.decode()
    assert 'class="panel how-to-find"' in empty and "data-person=" not in empty

    wan, li = Person.objects.get(id_number=WAN), Person.objects.get(id_number=LI)
    for person in (wan, li, wan):
        client.get(reverse("people:person-detail", args=[person.pk]))
    page = client.get(reverse("people:person-search")).content.decode()
    lately = page.split('class="lately"')[1]
    assert lately.index(f'data-person="{wan.pk}"') < lately.index(f'data-person="{li.pk}"')
    assert lately.count("data-person=") == 2 and WAN not in lately  # numbers masked

    # Another reader's list is their own.
    other = logged_in(make_user()).get(reverse("people:person-search")).content.decode()
    assert "data-person=" not in other.split('class="lately"')[1]
