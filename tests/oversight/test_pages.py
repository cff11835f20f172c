"""Every oversight page renders for the county, and a unit's clerk reaches only their own unit:
another unit's inspection, photos, hand-overs and unit page answer 404."""

import datetime
import io

import pytest
from PIL import Image

from dangan.accounts.models import Role
from dangan.oversight import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(county, town, other_town, keepers, make_user, settings, tmp_path):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    photo = io.BytesIO()
    Image.new("RGB", (10, 10), (9, 9, 9)).save(photo, "PNG")
    photo.seek(0)
    survey = services.open_survey(actor=county, year=2026)
    own = services.start_inspection(actor=county, unit=town, year=2026)
    foreign = services.start_inspection(actor=county, unit=other_town, year=2026)
    finding = services.add_finding(
        actor=county,
        inspection=foreign,
        text="河口镇的问题",
        due_on=datetime.date(2026, 12, 31),
        photos=[("p.png", photo)],
    )
    keeper = services.name_keeper(actor=county, unit=other_town, name="赵六", since="2024-01-01")
    old, new, witness = keepers
    handover = services.start_custody_handover(
        actor=county, unit=town, outgoing=old, incoming=new, witness=witness
    )
    return {
        "survey": survey,
        "own": own,
        "foreign": foreign,
        "photo": finding.photos.get(),
        "keeper": keeper,
        "handover": handover,
    }


def _pages(world, town, other_town):
    return [
        "/oversight/",
        "/oversight/surveys/",
        f"/oversight/surveys/{world['survey'].pk}/",
        "/oversight/checklist/",
        "/oversight/inspections/?year=2026",
        f"/oversight/inspections/{world['own'].pk}/",
        f"/oversight/inspections/{world['foreign'].pk}/",
        f"/oversight/photos/{world['photo'].pk}/",
        "/oversight/keepers/",
        f"/oversight/units/{town.pk}/",
        f"/oversight/units/{other_town.pk}/",
        "/oversight/custody/",
        f"/oversight/custody/{world['handover'].pk}/",
    ]


@pytest.mark.parametrize("role", [Role.ARCHIVIST, Role.LEADER])
def test_the_county_opens_every_page(world, town, other_town, make_user, logged_in, role):
    client = logged_in(make_user(role=role))
    for url in _pages(world, town, other_town):
        assert client.get(url).status_code == 200, url
    pdf = client.get(f"/oversight/inspections/{world['foreign'].pk}/report.pdf")
    assert pdf["Content-Type"] == "application/pdf"


def test_a_town_clerk_reaches_only_their_own_unit(world, town_clerk, town, logged_in):
    client = logged_in(town_clerk)
    assert client.get(f"/oversight/inspections/{world['own'].pk}/").status_code == 200
    assert client.get(f"/oversight/units/{town.pk}/").status_code == 200
    for url in (
        f"/oversight/inspections/{world['foreign'].pk}/",
        f"/oversight/inspections/{world['foreign'].pk}/report.pdf",
        f"/oversight/photos/{world['photo'].pk}/",
        f"/oversight/units/{world['foreign'].unit_id}/",
        f"/oversight/custody/{world['handover'].pk}/",  # not a party to it
    ):
        assert client.get(url).status_code == 404, url
    for url in ("/oversight/keepers/", "/oversight/checklist/"):
        assert client.get(url).status_code == 403, url
    listing = client.get("/oversight/inspections/?year=2026").content.decode()
    assert "河口镇" not in listing


def test_a_town_clerk_cannot_act_for_the_county(world, town_clerk, logged_in):
    client = logged_in(town_clerk)
    finding = world["photo"].finding
    assert (
        client.post(f"/oversight/findings/{finding.pk}/close/", {"resolution": "x"}).status_code
        == 403
    )
    assert client.post("/oversight/surveys/", {"year": 2027}).status_code == 403
    page = client.post(f"/oversight/inspections/{world['own'].pk}/", {"summary": "好"})
    assert page.status_code == 403


def test_a_party_to_a_handover_sees_it_and_nobody_else_outside_the_county(
    world, keepers, make_user, logged_in
):
    old, _new, _witness = keepers
    url = f"/oversight/custody/{world['handover'].pk}/"
    assert logged_in(old).get(url).status_code == 200
    stranger = make_user(role=Role.READING_CLERK)
    client = logged_in(stranger)
    assert client.get(url).status_code == 404
    assert client.get("/oversight/").status_code == 403


def test_the_command_summarises_every_unit(world, capsys):
    import json

    from django.core.management import call_command

    call_command("oversight", "--year", "2026", "--json")
    summary = json.loads(capsys.readouterr().out)
    assert summary["units"] == 2 and summary["not_answered"] == 2
    assert summary["nobody_named"] == 1  # the first town has nobody named; the other has 赵六
