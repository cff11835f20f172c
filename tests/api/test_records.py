"""Creating, changing, filtering and reading records through the API, as another system would."""

import pytest

from dangan.audit.models import AuditEvent
from dangan.catalogue.models import Record
from dangan.people.models import Person

from .conftest import WAN, ZHANG, id_number

pytestmark = pytest.mark.django_db


def _payload(**changes):
    payload = {
        "fonds": "A001",
        "category": "SYTG",
        "title": "[李明失业人员托管档案]",
        "date": "2010-03-04",
        "responsible": "县人社局",
        "openness": "controlled",
        "metadata": {"work_unit": "县纺织厂", "custody_date": "2010年3月"},
        "persons": [{"id_number": id_number("11010119700202003"), "name": "李明"}],
    }
    payload.update(changes)
    return payload


def test_a_created_record_is_filed_with_its_archival_code_and_person(api):
    answer = api("archivist").post("/api/v1/records/", _payload(), format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    record = Record.objects.get(pk=body["id"])
    assert body["state"] == "filed"
    assert body["archival_code"] == record.archival_code
    assert record.archival_code.startswith("A001-SYTG·2010-D50")
    assert body["year"] == 2010 and body["retention"] == "D50"
    assert body["metadata"] == {"work_unit": "县纺织厂", "custody_date": "2010-03"}
    assert [p["name"] for p in body["persons"]] == ["李明"]
    assert AuditEvent.objects.filter(
        action="create", object_type="catalogue.record", object_id=str(record.pk)
    ).exists()


def test_a_draft_gets_no_archival_code(api):
    answer = api("archivist").post(
        "/api/v1/records/", _payload(file=False, date=None, year=2010), format="json"
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["state"] == "draft" and answer.json()["archival_code"] is None


def test_a_mistyped_id_number_is_refused_with_its_place_and_code(api):
    bad = ZHANG["id_number"][:-1] + ("0" if ZHANG["id_number"][-1] != "0" else "1")
    answer = api("archivist").post(
        "/api/v1/records/",
        _payload(
            persons=[
                {"id_number": WAN["id_number"], "name": WAN["name"]},
                {"id_number": bad, "name": "张伟"},
            ]
        ),
        format="json",
    )
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/problem+json"
    [error] = answer.json()["errors"]
    assert error["pointer"] == "#/persons/1/id_number"
    assert error["code"] == "id_checksum"
    assert bad not in answer.content.decode()  # the message shows the number masked
    assert not Record.objects.exists() and not Person.objects.exists()


def test_a_15_digit_number_is_upgraded_and_full_width_digits_are_read(api):
    old = "110101700202003"  # 15 digits, as old registers carry it
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in id_number("11010119800101123"))
    answer = api("archivist").post(
        "/api/v1/records/",
        _payload(
            persons=[{"id_number": old, "name": "李明"}, {"id_number": full_width, "name": "张伟"}]
        ),
        format="json",
    )
    assert answer.status_code == 201, answer.content
    numbers = {p["id_number"] for p in answer.json()["persons"]}
    assert numbers == {id_number("11010119700202003"), ZHANG["id_number"]}


def test_bad_metadata_is_refused_under_metadata(api):
    answer = api("archivist").post(
        "/api/v1/records/",
        _payload(metadata={"custody_date": "不详日期", "shoe_size": "42"}),
        format="json",
    )
    assert answer.status_code == 400
    pointers = {e["pointer"]: e["code"] for e in answer.json()["errors"]}
    assert pointers["#/metadata/shoe_size"] == "unknown_field"
    assert "#/metadata/custody_date" in pointers


def test_filing_without_the_da_t_18_elements_is_refused(api):
    answer = api("archivist").post(
        "/api/v1/records/", _payload(responsible="", year=2010), format="json"
    )
    assert answer.status_code == 400
    assert {(e["pointer"], e["code"]) for e in answer.json()["errors"]} == {
        ("#/responsible", "required_at_filing")
    }


def test_an_unknown_fonds_or_category_is_refused(api):
    answer = api("archivist").post(
        "/api/v1/records/", _payload(fonds="Z999", category="XX"), format="json"
    )
    assert answer.status_code == 400
    assert {e["pointer"] for e in answer.json()["errors"]} == {"#/fonds", "#/category"}


def test_a_change_is_saved_and_audited(api, archive):
    record = archive["zhang_sytg"]
    answer = api("archivist").patch(
        f"/api/v1/records/{record.pk}/",
        {
            "remarks": "原件破损",
            "metadata": {"work_unit": "县棉纺厂"},
            "persons": [{"id_number": WAN["id_number"], "name": "万平德"}],
        },
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["remarks"] == "原件破损"
    assert answer.json()["metadata"]["work_unit"] == "县棉纺厂"
    assert [p["name"] for p in answer.json()["persons"]] == [WAN["name"]]
    events = AuditEvent.objects.filter(action="update", object_id=str(record.pk)).order_by("id")
    fields, persons = (e.after for e in events)  # the fields, then who it is about
    assert fields["remarks"] == "原件破损"
    assert len(persons["persons"]) == 1


def test_the_archival_code_of_a_filed_record_cannot_be_changed_by_editing(api, archive):
    record = archive["zhang_sytg"]
    answer = api("archivist").patch(f"/api/v1/records/{record.pk}/", {"year": 1999}, format="json")
    assert answer.status_code == 400
    assert answer.json()["errors"] == [
        {
            "pointer": "#/year",
            "code": "code_field_locked",
            "detail": answer.json()["errors"][0]["detail"],
        }
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"category": "TX"}, {"wan_tx"}),
        ({"fonds": "B002"}, {"other_sytg"}),
        ({"year": 2003}, {"wan_sytg", "wan_tx"}),
        ({"year": 2003, "category": "SYTG"}, {"wan_sytg"}),
        ({"q": WAN["id_number"][-6:]}, {"wan_sytg", "wan_tx"}),
        ({"q": ZHANG["id_number"]}, {"zhang_sytg"}),
        ({"q": "萬平德退休"}, {"wan_tx"}),
        ({"state": "draft"}, set()),
        ({"retention": "D50"}, {"zhang_sytg", "wan_sytg", "other_sytg"}),
        ({"openness": "open"}, set()),
    ],
)
def test_record_filters(api, archive, query, expected):
    answer = api("archivist").get("/api/v1/records/", query)
    assert answer.status_code == 200
    assert {row["id"] for row in answer.json()["results"]} == {archive[n].pk for n in expected}


def test_records_are_ordered_as_asked(api, archive):
    rows = api("archivist").get("/api/v1/records/", {"ordering": "year"}).json()["results"]
    assert [row["year"] for row in rows] == sorted(row["year"] for row in rows)


def test_a_bad_filter_is_refused(api, archive):
    answer = api("archivist").get("/api/v1/records/", {"retention": "forever", "year": "x"})
    assert answer.status_code == 400
    assert {e["pointer"] for e in answer.json()["errors"]} == {"#/retention", "#/year"}


def test_lists_mask_id_numbers_and_the_audited_detail_shows_them(api, archive):
    client = api("archivist")
    listing = client.get("/api/v1/records/").content.decode()
    assert ZHANG["id_number"] not in listing and ZHANG["id_number"][-4:] in listing
    record = archive["zhang_sytg"]
    detail = client.get(f"/api/v1/records/{record.pk}/").json()
    assert detail["persons"][0]["id_number"] == ZHANG["id_number"]


def test_reading_a_record_or_a_person_is_audited(api, archive, callers):
    client = api("tx_only")
    record = archive["wan_tx"]
    person = record.persons.get()
    client.get(f"/api/v1/records/{record.pk}/")
    client.get(f"/api/v1/persons/{person.pk}/")
    reads = AuditEvent.objects.filter(action="read", actor=callers["tx_only"])
    assert set(reads.values_list("object_type", "object_id")) == {
        ("catalogue.record", str(record.pk)),
        ("people.person", str(person.pk)),
    }


def test_a_refused_read_is_not_audited_as_a_read(api, archive, callers):
    api("tx_only").get(f"/api/v1/records/{archive['zhang_sytg'].pk}/")
    assert not AuditEvent.objects.filter(action="read", actor=callers["tx_only"]).exists()


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("万平德", {WAN["name"]}),
        ("萬 平 德", {WAN["name"]}),
        ("張偉", {ZHANG["name"]}),
        (ZHANG["id_number"][-4:], {ZHANG["name"]}),
        (WAN["id_number"], {WAN["name"]}),
        (WAN["id_number"][:6] + WAN["id_number"][8:17], {WAN["name"]}),
        ("李", set()),
    ],
)
def test_persons_are_found_by_name_in_either_script_or_by_id_number(api, archive, q, expected):
    rows = api("archivist").get("/api/v1/persons/", {"q": q}).json()["results"]
    assert {row["name"] for row in rows} == expected


def test_a_search_by_id_number_is_audited_with_the_number_masked(api, archive, callers):
    api("tx_only").get("/api/v1/persons/", {"q": WAN["id_number"]})
    event = AuditEvent.objects.get(action="search", actor=callers["tx_only"])
    assert event.detail == {
        "q": WAN["id_number"][:6] + "********" + WAN["id_number"][-4:],
        "found": 1,
    }


def test_basic_authentication_works_for_other_systems(archive, callers, settings):
    import base64

    from rest_framework.test import APIClient

    from tests.conftest import PASSWORD

    user = callers["archivist"]
    settings.DANGAN_API_BASIC_USERS = [user.username]  # a service account (one factor)
    token = base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()
    answer = APIClient().get("/api/v1/records/", HTTP_AUTHORIZATION=f"Basic {token}")
    assert answer.status_code == 200 and answer.json()["count"] == 4


def test_a_record_read_in_full_shows_its_volume_and_the_relations_the_reader_may_see(
    api, archive, callers, make_record
):
    from dangan.catalogue import relations, volumes

    main, attachment = archive["wan_sytg"], archive["zhang_sytg"]
    relations.link_records(actor=None, source=attachment, target=main, kind="attachment")
    relations.link_records(actor=None, source=archive["wan_tx"], target=main, kind="see_also")
    answer = api("archivist").get(f"/api/v1/records/{main.pk}/").json()
    assert answer["relations"] == [
        {
            "kind": "attachment",
            "direction": "in",
            "code": attachment.archival_code,
            "id": attachment.pk,
        },
        {
            "kind": "see_also",
            "direction": "in",
            "code": archive["wan_tx"].archival_code,
            "id": archive["wan_tx"].pk,
        },
    ]
    assert answer["volume"] is None
    own = api("archivist").get(f"/api/v1/records/{attachment.pk}/").json()
    assert [(r["kind"], r["direction"], r["code"]) for r in own["relations"]] == [
        ("attachment", "out", main.archival_code)
    ]
    # A reader granted only TX sees the TX record, and not its relation to a SYTG one.
    assert api("tx_only").get(f"/api/v1/records/{archive['wan_tx'].pk}/").json()["relations"] == []

    volume = make_record(title="萬平德失业人员托管档案", level="volume")
    Record.objects.filter(pk=main.pk).update(level="item")
    main.refresh_from_db()
    volumes.assemble_volume(actor=callers["archivist"], volume=volume, items=[main])
    assert api("archivist").get(f"/api/v1/records/{main.pk}/").json()["volume"] == (
        volume.archival_code
    )
