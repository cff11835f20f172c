"""The facts an inspection starts from are what the database holds, not typed in."""

import datetime
import uuid

import pytest
from django.utils import timezone

from dangan.catalogue.models import Record
from dangan.intake.models import HandoverItem, HandoverList, ItemDecision
from dangan.oversight import selectors, services
from dangan.oversight.models import Fact, Keeper
from dangan.stacks.models import Alert, Room

pytestmark = pytest.mark.django_db
YEAR = timezone.localdate().year


def _list(town, fonds, category, *, days_ago, sent_after=None):
    created = timezone.now() - datetime.timedelta(days=days_ago)
    handover = HandoverList.objects.create(
        uid=uuid.uuid4(), unit=town, fonds=fonds, category=category, title="移交清单"
    )
    sent = created + datetime.timedelta(days=sent_after) if sent_after is not None else None
    HandoverList.objects.filter(pk=handover.pk).update(
        created_at=created, sent_at=sent, state="sent" if sent else "draft"
    )
    return handover


@pytest.fixture
def town_data(town, other_town, fonds, category, make_record, county):
    """Facts of every kind for the town, and some for another town that must not count."""
    # Lists begun this year: one draft far past the deadline, one sent late, one sent in time,
    # one draft still young.
    days = min(60, timezone.localdate().timetuple().tm_yday - 1)
    if days < 40:
        pytest.skip("too early in the year for lists begun 40 days ago")
    _list(town, fonds, category, days_ago=days)
    _list(town, fonds, category, days_ago=days, sent_after=35)
    _list(town, fonds, category, days_ago=days, sent_after=3)
    _list(town, fonds, category, days_ago=1)
    _list(other_town, fonds, category, days_ago=days)
    sent = _list(town, fonds, category, days_ago=days, sent_after=1)
    for n, verdict in enumerate(["returned", "returned", "accepted"], start=1):
        item = HandoverItem.objects.create(handover=sent, position=n, values={"title": "x"})
        ItemDecision.objects.create(item=item, verdict=verdict, reason="缺页" if n < 3 else "")
    # Records: one with fewer pages than it says, one complete, one a draft for months.
    short = make_record(unit=town, page_count=3)
    complete = make_record(unit=town, page_count=1)
    _pages(short, 2)
    _pages(complete, 1)
    late = Record.objects.create(
        fonds=fonds, category=category, unit=town, year=2001, retention="D30", title="[草稿]"
    )
    Record.objects.filter(pk=late.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=200)
    )
    # A room of the town with two alerts this year, one still open.
    room = Room.objects.create(code="T1", name="镇档案室")
    services.assign_room(actor=county, unit=town, room=room)
    now = timezone.now()
    for closed in (None, now):
        Alert.objects.create(
            room=room,
            kind="humidity",
            started_at=now,
            last_at=now,
            worst=70,
            closed_at=closed,
        )
    Keeper.objects.create(unit=town, name="王芳", since=datetime.date(2020, 1, 1))
    Keeper.objects.create(
        unit=town, name="已离职", since=datetime.date(2015, 1, 1), until=datetime.date(2019, 1, 1)
    )


def _pages(record, n):
    import io

    from PIL import Image

    from dangan.content.services import add_files

    files = []
    for i in range(n):
        data = io.BytesIO()
        Image.new("L", (8, 8), 40 * i).save(data, "PNG")
        data.seek(0)
        files.append((f"{i + 1}.png", data))
    add_files(actor=None, record=record, files=files)


@pytest.fixture(autouse=True)
def content_dir(settings, tmp_path):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"


def test_facts_equal_what_the_database_holds(town, town_data):
    facts = selectors.inspection_facts(town, YEAR)
    assert facts[Fact.OVERDUE_HANDOVERS] == 2  # the old draft and the late one
    assert facts[Fact.RETURNED_ITEMS] == 2
    assert facts[Fact.MISSING_PAGES] == 1
    assert facts[Fact.ROOM_ALERTS] == 2 and facts["room_alerts_open"] == 1
    assert facts[Fact.NAMED_ARCHIVIST] == 1 and facts["named_archivists"] == ["王芳"]
    assert facts[Fact.LATE_FILING] == 1


def test_an_inspection_keeps_the_facts_and_scores_from_them(town, town_data, county):
    inspection = services.start_inspection(actor=county, unit=town, year=YEAR)
    assert inspection.facts == selectors.inspection_facts(town, YEAR) | {
        "as_of": inspection.facts["as_of"]
    }
    points = {line.fact: line.points for line in inspection.scores.all()}
    assert points["overdue_handovers"] == 0  # the data show it not in order
    assert points["named_archivist"] == 15  # a keeper is named: full points, to be confirmed
    assert points[""] == 15  # no loose bundles: no fact behind it, the inspector decides


def test_a_unit_without_anything_has_clean_facts_but_no_archivist(other_town):
    facts = selectors.inspection_facts(other_town, YEAR - 1)
    assert facts[Fact.NAMED_ARCHIVIST] == 0
    assert facts[Fact.OVERDUE_HANDOVERS] == 0
    assert selectors.fact_is_good(Fact.NAMED_ARCHIVIST, facts) is False


def test_facts_read_again_follow_the_data_and_keep_the_points(town, county, make_record):
    inspection = services.start_inspection(actor=county, unit=town, year=YEAR)
    assert inspection.facts[Fact.NAMED_ARCHIVIST] == 0
    services.name_keeper(actor=county, unit=town, name="王芳", since=datetime.date(2020, 1, 1))
    services.refresh_facts(actor=county, inspection=inspection)
    inspection.refresh_from_db()
    assert inspection.facts == selectors.inspection_facts(town, YEAR)
    assert inspection.scores.get(fact=Fact.NAMED_ARCHIVIST).points == 0
