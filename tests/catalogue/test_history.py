"""A record's page reads in words: its history says which field changed, by label, from what to
what; an upload says how many pages came; the carrier and page count are shown as a clerk reads
them."""

import io
import re

import pytest
from django.urls import reverse
from PIL import Image

from dangan.catalogue.models import FieldDefinition
from dangan.catalogue.services import update_record
from dangan.content.services import add_files

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def content_store(settings, tmp_path):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"


def png(name: str):
    data = io.BytesIO()
    Image.new("L", (60, 80), 255).save(data, "PNG")
    data.seek(0)
    data.name = name
    return data


def history_cell(page: str) -> str:
    return re.search(r'<table class="history">(.*?)</table>', page, re.S).group(1)


def test_a_change_is_shown_by_field_label_with_before_and_after(
    logged_in, archivist, make_record, category
):
    field = FieldDefinition.objects.filter(category=category, kind="text").first()
    record = make_record(actor=archivist, page_count=9)
    update_record(
        actor=archivist,
        record=record,
        values={"title": "新题名", "openness": "open"},
        metadata={field.key: "县社保中心"},
    )
    page = logged_in(archivist).get(reverse("catalogue:record-detail", args=[record.pk]))
    history = history_cell(page.content.decode())
    assert "新题名" in history and "题名" in history
    assert field.label in history and "县社保中心" in history
    assert "开放" in history  # the openness by its label, not "open"
    assert "{" not in history and "metadata" not in history and field.key not in history


def test_an_upload_says_how_many_pages_came_and_the_page_count_shows_the_difference(
    logged_in, archivist, make_record
):
    record = make_record(actor=archivist, page_count=9)
    add_files(
        actor=archivist, record=record, files=[("p1.png", png("p1.png")), ("p2.png", png("p2.png"))]
    )
    page = logged_in(archivist).get(reverse("catalogue:record-detail", args=[record.pk]))
    text = page.content.decode()
    assert "上传了 2 页" in history_cell(text)
    assert 'data-pages-uploaded="2"' in text
    assert "纸质" in text and ">paper<" not in text


def test_pages_put_in_a_new_order_say_so_in_the_history_in_words(logged_in, archivist, make_record):
    from dangan.content.services import reorder_pages

    record = make_record(actor=archivist, page_count=2)
    first, second = add_files(
        actor=archivist, record=record, files=[("p1.png", png("p1.png")), ("p2.png", png("p2.png"))]
    )
    reorder_pages(actor=archivist, record=record, order=[second.pk, first.pk])
    page = logged_in(archivist).get(reverse("catalogue:record-detail", args=[record.pk]))
    history = history_cell(page.content.decode())
    assert "调整了页面顺序" in history
    assert "page_order" not in history and str(first.pk) + "," not in history


def test_the_cataloguer_corrects_the_page_count_and_the_hint_goes(
    logged_in, archivist, make_record
):
    record = make_record(actor=archivist, page_count=9)
    add_files(actor=archivist, record=record, files=[("p1.png", png("p1.png"))])
    client = logged_in(archivist)
    url = reverse("catalogue:record-detail", args=[record.pk])
    assert 'data-pages-uploaded="1"' in client.get(url).content.decode()
    update_record(actor=archivist, record=record, values={"page_count": 1})
    text = client.get(url).content.decode()
    assert "data-pages-uploaded" not in text
    assert "页数" in history_cell(text) and "9" in history_cell(text)
