"""The demo's scanned forms: drawn for the demo's persons, read by the real OCR pipeline, so a
fresh instance shows the viewer, page-text search and the suggestions."""

import datetime
import random
import time
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.urls import reverse

from dangan.accounts.models import User
from dangan.content.models import Page
from dangan.demo import scans
from dangan.digitize.models import PageProcessing
from dangan.people.id_numbers import mask
from dangan.people.names import fold


@pytest.fixture(autouse=True)
def fast_hashing(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DATA_DIR = tmp_path


def _reading(text):
    """The demo page whose OCR text contains ``text``."""
    return PageProcessing.objects.select_related("page__record").get(text__contains=text)


@pytest.mark.django_db
def test_after_dangan_demo_the_scanned_forms_are_read_searchable_and_suggest(client):
    started = time.monotonic()
    call_command("demo", persons=25, seed=3, verbosity=0)
    print(f"dangan demo with its scans: {time.monotonic() - started:.1f} s")
    originals = Page.objects.filter(role=Page.Role.ORIGINAL)
    assert originals.count() >= len(scans.PAGES) + 1
    # Every page the demo added is read: none is left to a worker.
    states = PageProcessing.objects.values_list("state", flat=True)
    assert len(states) == originals.count() and set(states) == {"done"}

    # Each form names the person of its record as the catalogue has them, ID number included.
    misfiled = PageProcessing.objects.get(suggestions__id_mismatch=True, page__position=2)
    forms = PageProcessing.objects.filter(page__record__category__code__in=["TX", "SYTG", "KG"])
    assert forms.count() >= 4
    for reading in forms.select_related("page__record"):
        (person,) = reading.page.record.persons.all()
        assert reading.suggestions["id_numbers"] == [person.id_number]
        assert fold(person.name) in {fold(name) for name in reading.suggestions["names"]}
        assert reading.checks["warnings"] == []  # 200 dpi, turned less than 3°

    # The exhibition's documents: their first page as issued, number and title as catalogued.
    documents = PageProcessing.objects.filter(page__record__category__code="WS")
    assert documents.exists()
    for reading in documents.select_related("page__record"):
        record = reading.page.record
        assert record.doc_number in "".join(reading.text.split())
        assert not reading.suggestions["id_numbers"]

    # A simplified phrase finds the record whose page prints it in traditional characters.
    traditional = _reading("職工退休審批表")
    assert "工齡連續計算" in traditional.text.replace(" ", "")
    record = traditional.page.record
    assert "工龄" not in record.title + str(record.metadata)
    archivist = User.objects.get(username="archivist")
    client.force_login(archivist)
    found = client.get(reverse("search:search"), {"q": "工龄连续计算"}).content.decode()
    assert record.archival_code in found

    # The viewer shows the page, its text and its preview image.
    view = client.get(reverse("digitize:page-view", args=[traditional.page_id]))
    assert view.status_code == 200 and "審批意見" in view.content.decode()
    preview = client.get(reverse("digitize:page-derivative", args=[traditional.page_id, "preview"]))
    assert preview.status_code == 200
    assert b"".join(preview.streaming_content).startswith(b"\xff\xd8")  # a JPEG

    # The page of another person filed in a residents' insurance file: flagged on the page
    # (number masked), and its number offered on the record's form to be taken with a click.
    host = misfiled.page.record
    (stranger,) = misfiled.suggestions["id_numbers"]
    assert stranger not in set(host.persons.values_list("id_number", flat=True))
    view = client.get(reverse("digitize:page-view", args=[misfiled.page_id])).content.decode()
    assert mask(stranger) in view  # the warning; the text beside the image is the page's own
    form = client.get(reverse("catalogue:record-edit", args=[host.pk])).content.decode()
    assert f'data-value="{stranger}' in form


@pytest.mark.django_db
def test_dangan_run_leaves_the_forms_to_the_worker(django_capture_on_commit_callbacks):
    """``--read-later`` (the first start of ``dangan run``): the command draws no form and
    reads no page; the worker's task draws the forms and queues them for reading."""
    from django_tasks_db.models import DBTaskResult

    from dangan.demo.tasks import demo_scans_task

    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", persons=25, seed=3, read_later=True, verbosity=0)
    assert not PageProcessing.objects.exclude(state="pending").exists()
    before = PageProcessing.objects.count()
    (queued,) = DBTaskResult.objects.filter(task_path=demo_scans_task.module_path)
    assert demo_scans_task.call(*queued.args_kwargs["args"]) == {"scans": len(scans.PAGES) + 1}
    assert PageProcessing.objects.count() == before + len(scans.PAGES) + 1
    assert not PageProcessing.objects.exclude(state="pending").exists()


def test_a_form_is_drawn_the_same_from_the_same_seed():
    person = SimpleNamespace(
        name="陆梅燕",
        sex="F",
        id_number="320925197309164648",
        birth_date=datetime.date(1973, 9, 16),
    )
    record = SimpleNamespace(
        date=datetime.date(2023, 9, 16),
        metadata={"work_unit": "建湖县恒达纺织有限公司", "work_start": "1991-03"},
    )
    form = scans.retirement(person, record, rng=random.Random(1), traditional=True, noise=0.5)
    assert "320925197309164648" in form.text and form.title == "职工退休审批表"
    first = scans.draw(form, seed=5)
    assert first == scans.draw(form, seed=5) != scans.draw(form, seed=6)
    assert first.startswith(b"\xff\xd8")


def test_the_fonts_are_found_through_fontconfig_where_debian_does_not_keep_them(monkeypatch):
    from dangan.digitize import specimens

    monkeypatch.setattr(specimens, "FONT_DIR", "/nonexistent")
    specimens.font.cache_clear()
    try:
        assert specimens.font("body", 40, True).font.family == "Noto Serif CJK TC"
        assert specimens.font("title", 40, False).getname() == ("Noto Sans CJK SC", "Bold")
    finally:
        specimens.font.cache_clear()
