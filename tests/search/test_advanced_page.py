"""The advanced search form on the search page, filing dates and saved searches."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from dangan.accounts.models import Role
from dangan.accounts.services import set_grants
from dangan.audit.models import AuditEvent
from dangan.catalogue.models import Category, Record
from dangan.catalogue.services import create_record, file_record
from dangan.search.advanced import build
from dangan.search.models import SavedSearch
from dangan.search.selectors import search

pytestmark = pytest.mark.django_db

URL = reverse("search:search")


def _found(response) -> list[int]:
    assert response.status_code == 200
    return sorted(int(pk) for pk in re.findall(r'data-record="(\d+)"', response.content.decode()))


def _problems(response) -> str:
    html = response.content.decode()
    match = re.search(r'<ul class="errorlist problems" role="alert">(.*?)</ul>', html, re.S)
    return match[1] if match else ""


@pytest.fixture
def files(make_record, archivist):
    def make(responsible, date, **extra):
        return make_record(
            actor=archivist, responsible=responsible, date=date, year=date.year, **extra
        )

    return {
        "in": make("县劳动局", datetime.date(1995, 3, 1), title="关于调整工资的通知"),
        "late": make("县劳动局", datetime.date(2005, 3, 1), title="关于调整工资的通知"),
        "near": make("县劳动局办公室", datetime.date(1996, 3, 1), title="关于调整工资的通知"),
        "other": make("县财政局", datetime.date(1995, 6, 1), title="关于招工的批复"),
        "hidden": make(
            "县劳动局",
            datetime.date(1995, 4, 1),
            title="关于调整工资的通知",
            category=Category.objects.get(code="TX"),
        ),
    }


@pytest.fixture
def clerk(make_user, category):
    """A reading clerk who may see the unemployment-custody category only (not TX)."""
    return make_user(role=Role.ARCHIVIST, grants=({"category": category},))


def test_responsible_and_a_date_range_on_the_page_find_exactly_the_visible_matches(
    files, clerk, logged_in
):
    client = logged_in(clerk)
    conditions = {"f1": "responsible", "v1": "县劳动局", "date_from": "1995", "date_to": "1996"}
    exact = _found(client.get(URL, {**conditions, "x1": "on"}))
    fuzzy = _found(client.get(URL, conditions))
    assert exact == [files["in"].pk]  # not the later one, not the one in TX the clerk cannot see
    assert fuzzy == sorted([files["in"].pk, files["near"].pk])  # the near-miss name only fuzzy
    with_words = _found(client.get(URL, {**conditions, "x1": "on", "q": "工资"}))
    assert with_words == [files["in"].pk]


def test_conditions_combine_with_all_or_any(files, archivist, logged_in):
    client = logged_in(archivist)
    conditions = {
        "f1": "responsible",
        "v1": "县财政局",
        "x1": "on",
        "f2": "title",
        "v2": "工资",
        "date_to": "1999",
    }
    assert _found(client.get(URL, conditions)) == []
    assert _found(client.get(URL, {**conditions, "match": "any"})) == sorted(
        [files["in"].pk, files["near"].pk, files["other"].pk, files["hidden"].pk]
    )


def test_a_field_of_the_categorys_schema_is_a_condition(fonds, category, archivist, logged_in):
    def make(work_unit):
        return create_record(
            actor=archivist,
            fonds=fonds,
            category=category,
            values={
                "title": "失业人员托管档案",
                "year": 2003,
                "retention": "D50",
                "date": datetime.date(2003, 1, 1),
                "responsible": "县就业局",
            },
            metadata={"work_unit": work_unit},
        )

    plant, plant_branch, _other = make("县机械厂"), make("县机械厂三车间"), make("县纺织厂")
    client = logged_in(archivist)
    assert _found(client.get(URL, {"f1": "work_unit", "v1": "县机械厂", "x1": "on"})) == [plant.pk]
    assert _found(client.get(URL, {"f1": "work_unit", "v1": "机械厂"})) == sorted(
        [plant.pk, plant_branch.pk]
    )


def test_the_filing_date_range_finds_what_was_filed_then(make_record, archivist, logged_in):
    old, new = make_record(actor=archivist), make_record(actor=archivist)
    Record.objects.filter(pk=old.pk).update(
        filed_at=timezone.make_aware(datetime.datetime(2019, 6, 1, 10))
    )
    client = logged_in(archivist)
    assert _found(client.get(URL, {"filed_from": "2019-01", "filed_to": "2019-12"})) == [old.pk]
    today = timezone.localdate().isoformat()
    assert _found(client.get(URL, {"filed_from": today})) == [new.pk]


def test_filing_a_draft_stamps_its_filing_time(fonds, category, archivist):
    draft = create_record(
        actor=archivist,
        fonds=fonds,
        category=category,
        values={
            "title": "草稿",
            "year": 2003,
            "retention": "D50",
            "date": datetime.date(2003, 1, 1),
            "responsible": "县就业局",
        },
        file=False,
    )
    assert draft.filed_at is None
    before = timezone.now()
    file_record(actor=archivist, record=draft)
    draft.refresh_from_db()
    assert draft.filed_at >= before


@pytest.mark.parametrize(
    "params, words",
    [
        ({"f1": "salary", "v1": "1"}, "There is no field “salary”"),
        ({"f1": "retire_date", "v1": "2001"}, "There is no field “retire_date”"),  # TX only
        ({"v1": "县劳动局"}, "Choose the field"),
        ({"date_from": "1995-13-01"}, "is not a date"),
        ({"filed_to": "yesterday"}, "is not a date"),
        ({"date_from": "2000", "date_to": "1990"}, "ends before it begins"),
        ({"filed_from": "2000", "filed_to": "1990"}, "ends before it begins"),
        ({"f1": "title", "v1": "x" * 300}, "at most 200 characters"),
    ],
)
def test_bad_conditions_get_a_message_and_no_results(files, clerk, logged_in, params, words):
    client = logged_in(clerk)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.get(URL, params)
    assert response.status_code == 200
    assert words in _problems(response)
    assert _found(response) == []


def test_a_field_the_user_may_not_see_is_refused_as_one_that_does_not_exist(clerk, archivist):
    with pytest.raises(Exception) as unseen:
        build(fields=["retire_date=2001"], user=clerk)
    with pytest.raises(Exception) as unknown:
        build(fields=["no_such=2001"], user=clerk)
    assert unseen.value.code == unknown.value.code == "unknown_field"
    assert build(fields=["retire_date=2001"], user=archivist).conditions  # who may see TX may


def test_the_page_offers_only_the_fields_of_the_users_categories(clerk, logged_in, scheme):
    html = logged_in(clerk).get(URL).content.decode()
    assert 'value="work_unit"' in html and 'value="custody_date"' in html
    assert 'value="retire_date"' not in html


def test_the_advanced_search_is_audited_with_its_conditions(files, clerk, logged_in):
    logged_in(clerk).get(URL, {"f1": "responsible", "v1": "县劳动局", "filed_from": "2000"})
    event = AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH).latest("id")
    assert event.detail["advanced"]["conditions"] == [["responsible", "县劳动局", False]]
    assert event.detail["advanced"]["filed_from"] == "2000-01-01"


def test_a_saved_search_runs_again_with_the_rights_of_today(files, archivist, logged_in):
    client = logged_in(archivist)
    query = "f1=responsible&v1=县劳动局&x1=on&date_from=1995&date_to=1996&page=3&evil=1"
    client.post(reverse("search:save"), {"name": "劳动局九五", "query": query})
    saved = SavedSearch.objects.get(owner=archivist)
    assert "page" not in saved.query and "evil" not in saved.query
    page = client.get(URL).content.decode()
    assert "劳动局九五" in page
    assert _found(client.get(f"{URL}?{saved.query}")) == sorted(
        [files["in"].pk, files["hidden"].pk]
    )
    # The TX records are closed to this user since: the saved search no longer shows them.
    set_grants(actor=None, user=archivist, grants=[{"category": files["in"].category}])
    assert _found(client.get(f"{URL}?{saved.query}")) == [files["in"].pk]


def test_a_saved_search_over_a_field_since_closed_says_so(files, archivist, logged_in):
    client = logged_in(archivist)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.post(reverse("search:save"), {"name": "退休", "query": "f1=retire_date&v1=2001"})
    set_grants(actor=None, user=archivist, grants=[{"category": files["in"].category}])
    saved = SavedSearch.objects.get(owner=archivist)
    response = client.get(f"{URL}?{saved.query}")
    assert "There is no field “retire_date”" in _problems(response)


def test_a_saved_search_is_its_owners_alone(files, archivist, clerk, logged_in):
    client = logged_in(archivist)
    client.post(reverse("search:save"), {"name": "mine", "query": "q=工资"})
    saved = SavedSearch.objects.get(owner=archivist)
    other = logged_in(clerk)
    assert "mine" not in other.get(URL).content.decode()
    other.post(reverse("search:delete-saved", args=[saved.pk]))
    assert SavedSearch.objects.filter(pk=saved.pk).exists()
    logged_in(archivist).post(reverse("search:delete-saved", args=[saved.pk]))
    assert not SavedSearch.objects.filter(pk=saved.pk).exists()


def test_the_search_selector_takes_the_filing_dates(files, archivist):
    today = timezone.localdate().isoformat()
    found = search(archivist, "", advanced=build(filed_from=today, fields=["title=招工"]))
    assert [hit.record.pk for hit in found.hits] == [files["other"].pk]


def test_records_filed_before_the_upgrade_get_the_time_of_their_ledger_entry(
    make_record, archivist
):
    import importlib

    from django.apps import apps

    from dangan.integrity.models import LedgerEntry

    record = make_record(actor=archivist)
    entry = LedgerEntry.objects.get(kind="record.filed", subject=f"record:{record.pk}")
    Record.objects.filter(pk=record.pk).update(filed_at=None)
    importlib.import_module("dangan.catalogue.migrations.0010_record_filed_at").created_is_filed(
        apps, None
    )
    record.refresh_from_db()
    assert record.filed_at == record.created_at
    importlib.import_module(
        "dangan.integrity.migrations.0005_filed_at_from_ledger"
    ).filed_at_from_ledger(apps, None)
    record.refresh_from_db()
    assert record.filed_at == entry.at
