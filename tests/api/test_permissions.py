"""Every endpoint answers each caller exactly what the pages would show them, and no more."""

import pytest

from dangan.catalogue.models import Category

from .conftest import WAN, ZHANG

pytestmark = pytest.mark.django_db

CALLERS = ["archivist", "tx_only", "system_admin", "anonymous"]

#: The records each caller may see, by the names of the ``archive`` fixture.
RECORDS_SEEN = {
    "archivist": {"zhang_sytg", "wan_sytg", "wan_tx", "other_sytg"},
    "tx_only": {"wan_tx"},
    "system_admin": set(),
}
FONDS_SEEN = {"archivist": {"A001", "B002"}, "tx_only": {"A001"}, "system_admin": set()}
PERSONS_SEEN = {
    "archivist": {ZHANG["name"], WAN["name"]},
    "tx_only": {WAN["name"]},
    "system_admin": set(),
}


def _ids(archive, names):
    return {archive[name].pk for name in names}


@pytest.mark.parametrize("caller", CALLERS)
def test_record_list_holds_only_the_records_the_caller_may_see(api, archive, caller):
    answer = api(caller).get("/api/v1/records/")
    if caller == "anonymous":
        assert answer.status_code == 401
        assert answer["WWW-Authenticate"].startswith("Basic")
        return
    assert answer.status_code == 200
    assert {row["id"] for row in answer.json()["results"]} == _ids(archive, RECORDS_SEEN[caller])
    assert answer.json()["count"] == len(RECORDS_SEEN[caller])


@pytest.mark.parametrize("caller", CALLERS)
def test_record_detail_is_not_found_outside_the_callers_rights(api, archive, caller):
    client = api(caller)
    for name, record in archive.items():
        answer = client.get(f"/api/v1/records/{record.pk}/")
        if caller == "anonymous":
            assert answer.status_code == 401
        elif name in RECORDS_SEEN[caller]:
            assert answer.status_code == 200
            assert answer.json()["archival_code"] == record.archival_code
        else:
            assert answer.status_code == 404, name
            assert answer["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("caller", CALLERS)
def test_fonds_are_those_in_which_the_caller_sees_records(api, archive, caller):
    client = api(caller)
    answer = client.get("/api/v1/fonds/")
    if caller == "anonymous":
        assert answer.status_code == 401
        assert client.get("/api/v1/fonds/A001/").status_code == 401
        return
    assert {row["code"] for row in answer.json()["results"]} == FONDS_SEEN[caller]
    assert "count" not in answer.json()["results"][0] if FONDS_SEEN[caller] else True
    for code in ("A001", "B002"):
        expected = 200 if code in FONDS_SEEN[caller] else 404
        assert client.get(f"/api/v1/fonds/{code}/").status_code == expected


@pytest.mark.parametrize("caller", CALLERS)
def test_the_whole_scheme_is_listed_but_tells_nothing_of_records(api, archive, caller):
    client = api(caller)
    answer = client.get("/api/v1/categories/", {"limit": 100})
    if caller == "anonymous":
        assert answer.status_code == 401
        return
    rows = answer.json()["results"]
    assert {row["code"] for row in rows} == set(Category.objects.values_list("code", flat=True))
    assert not any("count" in key for row in rows for key in row)
    detail = client.get("/api/v1/categories/SYTG/").json()
    assert [f["key"] for f in detail["metadata_fields"]] == [
        "work_unit",
        "work_start",
        "custody_date",
    ]
    assert {r["record_type"] for r in detail["retention_rules"]} == {
        "失业人员档案托管登记",
        "失业保险待遇核定",
    }


@pytest.mark.parametrize("caller", CALLERS)
def test_persons_are_those_of_the_records_the_caller_may_see(api, archive, caller):
    client = api(caller)
    answer = client.get("/api/v1/persons/")
    if caller == "anonymous":
        assert answer.status_code == 401
        return
    rows = answer.json()["results"]
    assert {row["name"] for row in rows} == PERSONS_SEEN[caller]
    assert answer.json()["count"] == len(PERSONS_SEEN[caller])
    zhang = archive["zhang_sytg"].persons.get()
    expected = 200 if ZHANG["name"] in PERSONS_SEEN[caller] else 404
    assert client.get(f"/api/v1/persons/{zhang.pk}/").status_code == expected


def test_a_persons_file_lists_only_the_records_the_caller_may_see(api, archive):
    wan = archive["wan_tx"].persons.get()
    seen_by_all = api("archivist").get(f"/api/v1/persons/{wan.pk}/").json()
    seen_by_tx = api("tx_only").get(f"/api/v1/persons/{wan.pk}/").json()
    assert {r["id"] for r in seen_by_all["records"]} == _ids(archive, {"wan_sytg", "wan_tx"})
    assert {r["id"] for r in seen_by_tx["records"]} == _ids(archive, {"wan_tx"})
    assert seen_by_tx["id_number"] == WAN["id_number"]


def _new_record(category="SYTG"):
    return {
        "fonds": "A001",
        "category": category,
        "title": "[李明档案]",
        "date": "2010-03-04",
        "responsible": "县人社局",
        "openness": "controlled",
        "persons": [{"id_number": ZHANG["id_number"], "name": "张伟"}],
    }


@pytest.mark.parametrize(
    ("caller", "category", "expected"),
    [
        ("archivist", "SYTG", 201),
        ("tx_only", "TX", 201),
        ("tx_only", "SYTG", 403),
        ("system_admin", "SYTG", 403),
        ("anonymous", "SYTG", 401),
    ],
)
def test_only_a_caller_with_write_rights_creates_records(api, db, caller, category, expected):
    answer = api(caller).post("/api/v1/records/", _new_record(category), format="json")
    assert answer.status_code == expected, answer.content
    if expected == 403:
        assert answer.json()["code"] == "permission_denied"
        assert answer.json()["detail"]


@pytest.mark.parametrize(
    ("caller", "record", "expected"),
    [
        ("archivist", "zhang_sytg", 200),
        ("tx_only", "wan_tx", 200),
        ("tx_only", "zhang_sytg", 404),
        ("system_admin", "zhang_sytg", 404),
        ("anonymous", "zhang_sytg", 401),
    ],
)
def test_only_a_caller_with_rights_on_a_record_changes_it(api, archive, caller, record, expected):
    target = archive[record]
    answer = api(caller).patch(
        f"/api/v1/records/{target.pk}/", {"remarks": "核对无误"}, format="json"
    )
    assert answer.status_code == expected
    target.refresh_from_db()
    assert (target.remarks == "核对无误") == (expected == 200)


def test_a_reader_who_may_see_but_not_change_a_record_is_refused(api, archive, make_user):
    from rest_framework.test import APIClient

    from dangan.accounts.models import Role

    client = APIClient()
    client.force_login(make_user(role=Role.READING_CLERK))
    target = archive["zhang_sytg"]
    assert client.get(f"/api/v1/records/{target.pk}/").status_code == 200
    answer = client.patch(f"/api/v1/records/{target.pk}/", {"remarks": "x"}, format="json")
    assert answer.status_code == 403
