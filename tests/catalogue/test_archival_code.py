import datetime
import threading

import pytest
from django.db import connection

from dangan.catalogue.archival_code import render
from dangan.catalogue.models import DEFAULT_CODE_TEMPLATE, Record
from dangan.catalogue.services import create_record

VALUES = {
    "fonds": "Z109",
    "category": "WS",
    "class": "WS",
    "year": 2011,
    "retention": "Y",
    "org": "BGS",
}


def test_default_template_writes_da_t_22_codes():
    assert render(DEFAULT_CODE_TEMPLATE, VALUES, 1) == "Z109-WS·2011-Y-BGS-0001"


def test_empty_part_drops_its_separator():
    assert render(DEFAULT_CODE_TEMPLATE, {**VALUES, "org": ""}, 12) == "Z109-WS·2011-Y-0012"


def test_da_t_13_style_template_is_configurable():
    template = "{fonds}-{class}·{year}·{retention}·{org}-{seq:3}"
    assert render(template, {**VALUES, "retention": "D30", "org": ""}, 5) == "Z109-WS·2011·D30-005"


def test_codes_are_consecutive_per_prefix(make_record):
    codes = [make_record().archival_code for _ in range(3)]
    assert codes == [
        "A001-SYTG·2001-D50-0001",
        "A001-SYTG·2001-D50-0002",
        "A001-SYTG·2001-D50-0003",
    ]
    assert make_record(year=2002).archival_code == "A001-SYTG·2002-D50-0001"


@pytest.mark.django_db(transaction=True)
def test_two_clerks_filing_at_once_get_distinct_gap_free_numbers(fonds, category):

    errors = []

    def file_some():
        try:
            for _ in range(10):
                create_record(
                    actor=None,
                    fonds=fonds,
                    category=category,
                    values={
                        "title": "[并发]",
                        "year": 2020,
                        "date": datetime.date(2020, 1, 1),
                        "responsible": "县人社局",
                        "openness": "controlled",
                    },
                )
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=file_some) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = sorted(Record.objects.filter(year=2020).values_list("sequence", flat=True))
    assert numbers == list(range(1, 41))


def test_template_without_item_number_is_refused_with_a_reason():
    from django.core.exceptions import ValidationError

    from dangan.catalogue.models import Category

    category = Category(code="X", name="X", code_template="{fonds}-{year}-{colour}")
    try:
        category.clean()
    except ValidationError as error:
        assert len(error.message_dict["code_template"]) == 2
    else:
        raise AssertionError("a template without {seq} was accepted")
