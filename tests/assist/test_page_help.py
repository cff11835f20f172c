"""What a scanned page says, offered beside the record form's fields; a page whose ID number no
person of the record has is flagged on the record and in the scan batch's report; empty or
garbage text offers nothing."""

import io
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from dangan.assist.page_reading import read_fields
from dangan.content.services import add_files
from dangan.digitize import suggestions
from dangan.digitize.models import PageProcessing, ScanBatch
from tests.samples import TRUTH

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def places(settings, tmp_path):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    settings.DANGAN_LEDGER_WITNESS_DIR = str(tmp_path / "witness")


def sample_text(i: int) -> str:
    return json.loads(TRUTH.read_text(encoding="utf-8"))[i]["text"]


def read_page(record, actor, text: str, batch=None):
    """A page of ``record`` as the pipeline leaves it after reading ``text``."""
    image = io.BytesIO()
    Image.new("L", (60, 80), 255).save(image, "PNG")
    image.seek(0)
    (page,) = add_files(actor=actor, record=record, files=[("1.png", image)])
    found = suggestions.suggest_metadata(text)
    comparison = suggestions.compare_with_record(record=record, id_numbers=found.id_numbers)
    PageProcessing.objects.filter(page=page).update(
        state=PageProcessing.State.DONE,
        text=text,
        batch=batch,
        suggestions={
            "id_numbers": [n.number for n in found.id_numbers],
            "id_mismatch": comparison.differs,
            "messages": comparison.messages(),
        },
    )
    return page


def test_the_form_shows_what_the_page_says_beside_each_field(make_record, archivist, logged_in):
    record = make_record(actor=archivist, title="[待著录]")
    read_page(record, archivist, sample_text(0))
    page = logged_in(archivist).get(reverse("catalogue:record-edit", args=[record.pk]))
    text = page.content.decode()
    for field, value in [
        ("title", "失业人员档案托管登记表"),
        ("date", "1993-04-12"),
        ("responsible", "建湖县人力资源和社会保障局"),
        ("persons", "320925194304016802 罗凤秀"),
    ]:
        assert f'data-suggest-for="{field}" data-value="{value}"' in text
    assert 'class="suggestion-all"' in text and "assist/suggest.js" in text


def test_values_the_record_has_already_are_not_offered(make_record, archivist):
    from dangan.assist.selectors import page_help

    record = make_record(actor=archivist, title="失业人员档案托管登记表")
    read_page(record, archivist, sample_text(0))
    assert "title" not in page_help(record)["fields"]


def test_a_page_of_another_person_is_flagged_on_the_record_and_in_the_batch_report(
    make_record, archivist, logged_in
):
    record = make_record(
        actor=archivist, person={"id_number": "110101199003071233", "name": "成文刚"}
    )
    batch = ScanBatch.objects.create(
        source="/scans/today",
        created_by=archivist,
        finished_at=timezone.now(),
        report={"records": 1, "pages": 1, "skipped": 0, "unmatched": []},
    )
    page = read_page(record, archivist, sample_text(0), batch=batch)
    client = logged_in(archivist)
    detail = client.get(reverse("catalogue:record-detail", args=[record.pk])).content.decode()
    assert "page-mismatch" in detail and "320925********6802" in detail
    assert "320925194304016802" not in detail  # masked
    report = client.get(reverse("digitize:batch-detail", args=[batch.pk])).content.decode()
    assert "page-mismatch" in report
    assert reverse("digitize:page-view", args=[page.pk]) in report


@pytest.mark.parametrize("text", ["", "   \n ", "@@## ~~ 1 2", "囧 龘 靐 齉", "||||||||"])
def test_empty_or_garbage_text_offers_nothing(text):
    assert read_fields(text) == {}


def test_a_document_offers_its_number_title_date_and_signer():
    found = read_fields(
        "建湖县人力资源和社会保障局文件\n建人社发〔2015〕12号\n"
        "关于做好2015年就业见习工作的通知\n各镇：……\n建湖县人力资源和社会保障局\n2015年3月2日"
    )
    assert found["doc_number"] == ["建人社发〔2015〕12号"]
    assert found["title"] == ["关于做好2015年就业见习工作的通知"]
    assert found["date"] == ["2015-03-02"]
