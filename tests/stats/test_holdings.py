"""The holdings counts the database keeps beside the records: every way a record is written is
counted, and the dashboard's totals stay those of ``visible_records``."""

import pytest
from django.db import connection

from dangan.accounts.models import Role, Secrecy
from dangan.catalogue.models import Category, Record
from dangan.catalogue.selectors import visible_records
from dangan.catalogue.services import update_record
from dangan.stats import holdings_triggers, selectors
from dangan.stats.models import Holding


def _counted() -> dict:
    totals = {}
    for row in Holding.objects.values("category_id", "year", "secrecy", "state", "n"):
        key = (row["category_id"], row["year"], row["secrecy"], row["state"])
        totals[key] = totals.get(key, 0) + row["n"]
    return {k: v for k, v in totals.items() if v}


def _actual() -> dict:
    totals = {}
    for r in Record.objects.values("category_id", "year", "secrecy", "state"):
        key = (r["category_id"], r["year"], r["secrecy"], r["state"])
        totals[key] = totals.get(key, 0) + 1
    return totals


@pytest.mark.django_db
def test_counts_follow_services_sql_and_deletes(make_record, archivist):
    first = make_record(year=2001)
    make_record(year=2001)
    make_record(year=2002, secrecy=Secrecy.SECRET)
    assert _counted() == _actual()
    update_record(actor=archivist, record=first, values={"secrecy": Secrecy.CONFIDENTIAL})
    assert _counted() == _actual()
    tx = Category.objects.get(code="TX")
    with connection.cursor() as cursor:  # behind the application's back
        cursor.execute(
            "UPDATE catalogue_record SET category_id = %s, year = 1999 WHERE id = %s",
            [tx.pk, first.pk],
        )
    assert _counted() == _actual()
    Record.objects.filter(pk=first.pk).delete()
    assert _counted() == _actual()
    assert sum(_counted().values()) == 2


@pytest.mark.django_db
def test_dashboard_totals_equal_the_visible_records(make_record, make_user, category):
    tx = Category.objects.get(code="TX")
    for year in (2001, 2001, 2005):
        make_record(year=year)
    make_record(year=2003, category=tx)
    make_record(year=2003, secrecy=Secrecy.SECRET)
    users = [
        make_user(role=Role.LEADER, grants=[{"max_secrecy": Secrecy.SECRET}]),
        make_user(role=Role.LEADER, grants=[{"category": category, "max_secrecy": 1}]),
        make_user(role=Role.LEADER, grants=[{"category": tx, "max_secrecy": 3}]),
        make_user(role=Role.AUDITOR, grants=[]),
    ]
    for user in users:
        board = selectors.holdings(user)
        assert board.total == visible_records(user).count()
        by_year = board.by(1)
        for year, n in by_year.items():
            assert visible_records(user).filter(year=year).count() == n


@pytest.mark.django_db(transaction=True)
def test_lost_triggers_are_put_back_and_the_counts_rebuilt(make_record, scheme):
    make_record(year=2010)
    with connection.cursor() as cursor:
        for name in ("stats_holding_insert", "stats_holding_delete", "stats_holding_update"):
            if connection.vendor == "sqlite":
                cursor.execute(f"DROP TRIGGER {name}")
            else:
                cursor.execute(f"DROP TRIGGER {name} ON catalogue_record")
    make_record(year=2011)  # not counted: no trigger
    assert sum(_counted().values()) == 1
    assert holdings_triggers.install() is True
    assert _counted() == _actual()
    make_record(year=2012)
    assert _counted() == _actual()
    assert holdings_triggers.install() is False  # already there


@pytest.mark.django_db
def test_a_tombstone_is_no_longer_held(make_record, make_user):
    leader = make_user(role=Role.LEADER, grants=[{"max_secrecy": Secrecy.SECRET}])
    kept, destroyed = make_record(year=2001), make_record(year=2001)
    Record.objects.filter(pk=destroyed.pk).update(state=Record.State.DESTROYED)
    assert selectors.holdings(leader).total == 1
    assert kept.pk in set(visible_records(leader).values_list("pk", flat=True))
