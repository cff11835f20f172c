"""Advanced search: conditions on fields and a date range, exact or fuzzy, within the rights."""

import datetime
import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from dangan.accounts.models import Role
from dangan.catalogue.models import Category
from dangan.search.advanced import build
from dangan.search.selectors import search

pytestmark = pytest.mark.django_db


def _ids(results):
    return sorted(hit.record.pk for hit in results.hits)


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
        "other": make("县财政局", datetime.date(1995, 6, 1), title="关于调整工资的通知"),
        "hidden": make(
            "县劳动局",
            datetime.date(1995, 4, 1),
            title="关于调整工资的通知",
            category=Category.objects.get(code="TX"),
        ),
    }


def test_responsible_and_a_date_range_find_exactly_the_matching_visible_records(files, make_user):
    clerk = make_user(role=Role.ARCHIVIST, grants=({"category": files["in"].category},))
    advanced = build(
        fields=["responsible=县劳动局"], date_from="1995-01-01", date_to="1996-12-31", exact=True
    )
    assert _ids(search(clerk, "", advanced=advanced)) == [files["in"].pk]
    assert _ids(search(clerk, "工资", advanced=advanced)) == [files["in"].pk]


def test_exact_and_fuzzy_differ_on_a_near_miss_name(files, archivist):
    exact = build(fields=["responsible=县劳动局"], date_to="1999", exact=True)
    fuzzy = build(fields=["responsible=县劳动局"], date_to="1999")
    assert files["near"].pk not in _ids(search(archivist, "", advanced=exact))
    assert files["near"].pk in _ids(search(archivist, "", advanced=fuzzy))


def test_bad_input_is_refused_with_a_clear_message(files):
    for kwargs, code in [
        ({"fields": ["salary=1"]}, "unknown_field"),
        ({"fields": ["responsible"]}, "bad_condition"),
        ({"date_from": "1995-13-01"}, "bad_date"),
        ({"date_from": "yesterday"}, "bad_date"),
        ({"date_from": "2000", "date_to": "1990"}, "dates_backwards"),
    ]:
        with pytest.raises(ValidationError) as refused:
            build(**kwargs)
        assert refused.value.code == code


def test_the_command_line_takes_fields_and_dates_and_keeps_its_json(files, archivist):
    out = StringIO()
    call_command(
        "search",
        "--field",
        "responsible=县劳动局",
        "--from",
        "1995",
        "--to",
        "1996",
        "--exact",
        "--user",
        archivist.username,
        "--json",
        stdout=out,
        stderr=StringIO(),
    )
    hits = json.loads(out.getvalue())
    assert sorted(h["record_id"] for h in hits) == sorted([files["in"].pk, files["hidden"].pk])
    assert set(hits[0]) == {
        "record_id",
        "archival_code",
        "legacy_number",
        "title",
        "category",
        "year",
        "score",
        "pages",
        "snippets",
    }
    with pytest.raises(CommandError, match="salary"):
        call_command("search", "--field", "salary=1", stdout=StringIO(), stderr=StringIO())
