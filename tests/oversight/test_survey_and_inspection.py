"""The holdings survey and the yearly inspection: who answers what, the comparison, findings,
the ranking and the report."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from PIL import Image

from dangan.accounts.models import Role
from dangan.oversight import selectors, services
from dangan.oversight.models import Finding, SurveyAnswer

pytestmark = pytest.mark.django_db

ANSWER = {
    "kinds": "失业人员托管档案",
    "files_at_unit": 120,
    "metres_at_unit": 3,
    "files_moved": 5,
    "year_from": 1998,
    "year_to": 2020,
    "protections": ["fire", "theft"],
    "digitised_percent": 10,
}


@pytest.fixture
def survey(county):
    return services.open_survey(actor=county, year=2026)


def test_only_the_county_archivist_opens_a_survey(town_clerk, make_user):
    for user in (town_clerk, make_user(role=Role.LEADER)):
        with pytest.raises(PermissionDenied):
            services.open_survey(actor=user, year=2026)


def test_a_town_clerk_answers_for_their_own_unit_only(survey, town_clerk, town, other_town):
    services.answer_survey(actor=town_clerk, survey=survey, unit=town, **ANSWER)
    with pytest.raises(PermissionDenied):
        services.answer_survey(actor=town_clerk, survey=survey, unit=other_town, **ANSWER)
    assert SurveyAnswer.objects.get().unit == town


def test_a_town_clerk_sees_only_their_own_units_answer_page(
    survey, town_clerk, other_town, make_user, logged_in
):
    other_clerk = make_user(role=Role.TOWN_CLERK, unit=other_town, grants=())
    services.answer_survey(actor=other_clerk, survey=survey, unit=other_town, **ANSWER)
    client = logged_in(town_clerk)
    page = client.get(f"/oversight/surveys/{survey.pk}/answer/")
    assert page.status_code == 200
    assert "河口镇" not in page.content.decode()
    assert client.get(f"/oversight/surveys/{survey.pk}/").status_code == 302  # to their form
    assert client.get(f"/oversight/units/{other_town.pk}/").status_code == 404


def test_the_county_sees_reported_beside_held(
    survey, town_clerk, town, other_town, county, make_record
):
    make_record(unit=town)
    make_record(unit=town)
    services.answer_survey(actor=town_clerk, survey=survey, unit=town, **ANSWER)
    rows = {r["unit"].code: r for r in selectors.survey_comparison(county, survey)}
    assert rows["T01"]["answer"].files_moved == 5
    assert rows["T01"]["held"].records == 2
    assert rows["T01"]["difference"] == 3
    assert rows["T02"]["answer"] is None and rows["T02"]["held"].records == 0


def test_a_closed_survey_takes_no_answers(survey, county, town_clerk, town):
    services.close_survey(actor=county, survey=survey)
    with pytest.raises(ValidationError):
        services.answer_survey(actor=town_clerk, survey=survey, unit=town, **ANSWER)


def _photo():
    data = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 30, 30)).save(data, "JPEG")
    data.seek(0)
    return data


def test_findings_are_followed_until_closed_and_units_ranked(
    county, town, other_town, settings, tmp_path, logged_in
):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    first = services.start_inspection(actor=county, unit=town, year=2026)
    second = services.start_inspection(actor=county, unit=other_town, year=2026)
    line = second.scores.first()
    services.score_inspection(actor=county, inspection=second, scores={line.pk: (0, "差")})
    due = datetime.date(2026, 12, 31)
    services.add_finding(
        actor=county,
        inspection=first,
        text="散存档案未装盒",
        due_on=due,
        photos=[("a.jpg", _photo())],
    )
    other = services.add_finding(actor=county, inspection=first, text="无温湿度计", due_on=due)
    services.close_finding(actor=county, finding=other, resolution="已购置")
    assert list(selectors.open_findings(town).values_list("text", flat=True)) == ["散存档案未装盒"]
    ranking = selectors.ranking(county, 2026)
    assert [i.unit.code for i in ranking] == ["T01", "T02"]
    assert ranking[0].open_count == 1
    client = logged_in(county)
    pdf = client.get(f"/oversight/inspections/{first.pk}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    photo = Finding.objects.get(text="散存档案未装盒").photos.get()
    assert client.get(f"/oversight/photos/{photo.pk}/").status_code == 200


def test_a_finding_photo_must_be_a_photo(county, town, settings, tmp_path):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    inspection = services.start_inspection(actor=county, unit=town, year=2026)
    with pytest.raises(ValidationError):
        services.add_finding(
            actor=county,
            inspection=inspection,
            text="x",
            due_on=datetime.date(2026, 12, 31),
            photos=[("a.jpg", io.BytesIO(b"%PDF-1.4\n%%EOF\n"))],
        )
    assert not Finding.objects.exists()


def test_the_county_sees_units_with_nobody_named_or_trained(county, town, other_town):
    keeper = services.name_keeper(
        actor=county, unit=town, name="王芳", since=datetime.date(2024, 1, 1)
    )
    services.add_qualification(
        actor=county,
        keeper=keeper,
        kind="training",
        title="档案业务培训",
        on=datetime.date(2025, 5, 1),
    )
    rows = {r["unit"].code: r for r in selectors.keepers_overview(county)}
    assert not rows["T01"]["nobody_named"] and not rows["T01"]["nobody_trained"]
    assert rows["T02"]["nobody_named"] and rows["T02"]["nobody_trained"]


def test_an_answer_is_checked_by_the_service_too(survey, town_clerk, town):
    with pytest.raises(ValidationError):
        services.answer_survey(
            actor=town_clerk, survey=survey, unit=town, **{**ANSWER, "digitised_percent": 130}
        )
    assert not SurveyAnswer.objects.exists()
    services.answer_survey(actor=town_clerk, survey=survey, unit=town, **ANSWER)
    services.answer_survey(
        actor=town_clerk, survey=survey, unit=town, **{**ANSWER, "files_moved": 9}
    )
    assert SurveyAnswer.objects.get().files_moved == 9
