"""A province in one installation: counties as top-level units, each county's staff seeing only
their county unless granted more, and a provincial office seeing every county's numbers."""

import pytest
from django.urls import reverse

from dangan.accounts.models import Role, Secrecy, Unit
from dangan.accounts.selectors import county_of, may_write_record, units_within
from dangan.catalogue.selectors import browse_records, visible_records

WIDE = {"max_secrecy": Secrecy.CONFIDENTIAL}


@pytest.fixture
def province(db):
    """Two counties, each with its bureau and a town; records in every unit."""
    units = {}
    for code, name in (("C01", "东台县"), ("C02", "射阳县")):
        county = Unit.objects.create(code=code, name=name, kind=Unit.Kind.COUNTY)
        bureau = Unit.objects.create(
            code=f"{code}-B", name=f"{name}人社局", kind=Unit.Kind.BUREAU, parent=county
        )
        town = Unit.objects.create(
            code=f"{code}-T", name=f"{name}城关镇", kind=Unit.Kind.TOWN, parent=bureau
        )
        units[code] = {"county": county, "bureau": bureau, "town": town}
    return units


@pytest.fixture
def holdings(province, make_record):
    return {
        code: {kind: make_record(unit=unit) for kind, unit in units.items()}
        for code, units in province.items()
    }


def test_the_county_of_a_unit_is_its_top_level_county(province):
    east = province["C01"]
    assert county_of(east["town"].pk) == east["county"].pk
    assert units_within(east["county"].pk) == {u.pk for u in east.values()}
    assert county_of(None) is None


def test_county_staff_see_only_their_county(province, holdings, make_user):
    clerk = make_user(unit=province["C01"]["bureau"], grants=[WIDE])
    assert set(visible_records(clerk)) == set(holdings["C01"].values())


def test_a_grant_naming_another_county_opens_it(province, holdings, make_user):
    clerk = make_user(
        unit=province["C01"]["town"], grants=[WIDE, {**WIDE, "unit": province["C02"]["county"]}]
    )
    assert set(visible_records(clerk)) == {
        *holdings["C01"].values(),
        *holdings["C02"].values(),
    }


def test_a_grant_naming_one_unit_stays_that_unit(province, holdings, make_user):
    clerk = make_user(
        unit=province["C01"]["bureau"], grants=[{**WIDE, "unit": province["C02"]["town"]}]
    )
    assert list(visible_records(clerk)) == [holdings["C02"]["town"]]


def test_a_provincial_office_sees_every_county(province, holdings, make_user):
    office = make_user(role=Role.LEADER, grants=[WIDE])  # in no county
    assert visible_records(office).count() == 6


def test_other_counties_records_answer_404_and_cannot_be_written(
    province, holdings, make_user, logged_in
):
    clerk = make_user(unit=province["C01"]["bureau"], grants=[WIDE])
    theirs, mine = holdings["C02"]["bureau"], holdings["C01"]["town"]
    assert not may_write_record(clerk, theirs)
    assert may_write_record(clerk, mine)
    client = logged_in(clerk)
    assert client.get(reverse("catalogue:record-detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("catalogue:record-detail", args=[mine.pk])).status_code == 200


def test_look_ups_stay_in_the_county(province, holdings, make_user):
    clerk = make_user(unit=province["C02"]["bureau"], grants=[WIDE])
    code = holdings["C01"]["bureau"].archival_code
    assert not browse_records(clerk, q=code).exists()


def test_moving_a_unit_to_another_county_takes_effect_at_once(province, holdings, make_user):
    clerk = make_user(unit=province["C01"]["bureau"], grants=[WIDE])
    assert holdings["C02"]["town"] not in visible_records(clerk)
    town = province["C02"]["town"]
    town.parent = province["C01"]["bureau"]
    town.save()
    assert holdings["C02"]["town"] in visible_records(clerk)


def test_the_provincial_statistics_count_each_county(province, holdings, make_user, logged_in):
    office = make_user(role=Role.LEADER, grants=[WIDE])
    response = logged_in(office).get(reverse("stats:province"))
    assert response.status_code == 200
    rows = {row["name"]: row["records"] for row in response.context["rows"]}
    assert rows == {"东台县": 3, "射阳县": 3}


def test_a_county_leader_sees_only_their_county_in_the_provincial_view(
    province, holdings, make_user, logged_in
):
    leader = make_user(role=Role.LEADER, unit=province["C02"]["bureau"], grants=[WIDE])
    response = logged_in(leader).get(reverse("stats:province"))
    assert [(r["name"], r["records"]) for r in response.context["rows"]] == [("射阳县", 3)]
    assert "东台县" not in response.content.decode()
