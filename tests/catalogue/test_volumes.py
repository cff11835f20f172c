"""组卷: items assembled into a volume, its 卷内目录 with running page numbers and its 备考表,
printed as PDF with the CJK font embedded; audited and under the ledger."""

import datetime
import subprocess

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from dangan.audit.models import AuditEvent
from dangan.catalogue import volumes
from dangan.catalogue.models import Record
from dangan.integrity.models import LedgerEntry
from dangan.integrity.verify import verify


@pytest.fixture
def volume_with_items(make_record):
    volume = make_record(title="张卫国退休档案", level="volume")
    items = [
        make_record(
            title="退休审批表", doc_number="人社退〔2020〕12号", page_count=2, level="item"
        ),
        make_record(title="养老金核定表", page_count=3, level="item"),
        make_record(title="[工龄认定说明]", page_count=1, level="item"),
    ]
    return volume, items


def pdf_text(pdf: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


@pytest.mark.django_db
def test_a_volume_of_three_items_prints_its_list_in_order_with_page_numbers(
    volume_with_items, archivist, client
):
    volume, items = volume_with_items
    ordered = [items[1], items[0], items[2]]
    volumes.assemble_volume(actor=archivist, volume=volume, items=ordered)
    assert [r.pk for r in volumes.volume_items(volume)] == [r.pk for r in ordered]
    lines = volumes.volume_lines(volumes.volume_items(volume))
    assert [(line.first_page, line.last_page) for line in lines] == [(1, 3), (4, 5), (6, 6)]
    volumes.save_note(
        actor=archivist,
        volume=volume,
        notes="第2件原件缺页，已注明。",
        compiled_by="王立卷",
        compiled_on=datetime.date(2026, 12, 1),
        checked_by="李检查",
    )

    client.force_login(archivist)
    response = client.get(reverse("catalogue:volume-pdf", args=[volume.pk]))
    pdf = b"".join(response.streaming_content)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    positions = [text.index(item.title) for item in ordered]
    assert positions == sorted(positions)  # listed in the volume's order
    assert "6-6" in text and "王立卷" in text and "第2件原件缺页" in text
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True).stdout.decode()
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(line.split()[-5] == "yes" for line in cjk)  # CJK glyphs embedded
    from tests.pdf_glyphs import assert_pdfa_2b

    assert_pdfa_2b(pdf)
    assert AuditEvent.objects.filter(action="export", object_id=str(volume.pk)).exists()

    page = client.get(reverse("catalogue:record-detail", args=[volume.pk])).content.decode()
    assert all(item.title in page for item in items) and "李检查" in page
    item_page = client.get(reverse("catalogue:record-detail", args=[items[0].pk]))
    assert volume.title in item_page.content.decode()


@pytest.mark.django_db
def test_assembling_is_audited_under_the_ledger_and_verify_stays_clean(
    volume_with_items, archivist
):
    volume, items = volume_with_items
    volumes.assemble_volume(actor=archivist, volume=volume, items=items)
    volumes.assemble_volume(actor=archivist, volume=volume, items=items[:2])  # one leaves
    assert Record.objects.get(pk=items[2].pk).volume is None
    assert (
        LedgerEntry.objects.filter(kind="record.changed", subject=f"record:{items[2].pk}").count()
        == 2
    )
    assert (
        AuditEvent.objects.filter(
            object_id=str(volume.pk), detail__change="volume_assembled"
        ).count()
        == 2
    )
    report, _run = verify(seal=False)
    assert report.passed, report.problems


@pytest.mark.django_db
def test_an_item_in_another_volume_or_a_volume_cannot_be_put_in(
    volume_with_items, make_record, archivist, client
):
    volume, items = volume_with_items
    other = make_record(title="另一卷", level="volume")
    volumes.assemble_volume(actor=archivist, volume=other, items=[items[0]])
    with pytest.raises(ValidationError) as refused:
        volumes.assemble_volume(actor=archivist, volume=volume, items=[items[0]])
    assert refused.value.code == "in_other_volume"
    with pytest.raises(ValidationError):
        volumes.assemble_volume(actor=archivist, volume=volume, items=[other])
    with pytest.raises(ValidationError):
        volumes.assemble_volume(actor=archivist, volume=items[1], items=[items[2]])

    client.force_login(archivist)
    codes = f"{items[1].archival_code}\nNO-SUCH-CODE"
    response = client.post(
        reverse("catalogue:volume-items", args=[volume.pk]), {"codes": codes}, follow=True
    )
    assert "NO-SUCH-CODE" in response.content.decode()
    assert not Record.objects.filter(volume=volume).exists()  # nothing half-done


@pytest.mark.django_db
def test_the_in_volume_list_exports_to_excel_in_order_with_page_numbers(
    volume_with_items, archivist, client
):
    import io

    from openpyxl import load_workbook

    volume, items = volume_with_items
    ordered = [items[2], items[0], items[1]]
    volumes.assemble_volume(actor=archivist, volume=volume, items=ordered)
    Record.objects.filter(pk=items[1].pk).update(remarks="=SUM(A1:A9)")  # text, never a formula
    client.force_login(archivist)
    response = client.get(
        reverse("catalogue:volume-xlsx", args=[volume.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[1][:2] == ("Archival code", volume.archival_code)
    lines = [row for row in rows[3:] if isinstance(row[0], int)]
    assert [(row[0], row[1], row[4], row[6]) for row in lines] == [
        (1, items[2].archival_code, "[工龄认定说明]", 1),
        (2, items[0].archival_code, "退休审批表", 2),
        (3, items[1].archival_code, "养老金核定表", "4-6"),
    ]
    assert lines[1][2] == "人社退〔2020〕12号"
    assert lines[0][5] == datetime.datetime(2001, 5, 1)  # a date cell, not text
    assert lines[2][7] == "=SUM(A1:A9)"
    assert any(row[:4] == ("Items", 3, "Pages", 6) for row in rows if row[0])
    assert AuditEvent.objects.filter(
        action="export", object_id=str(volume.pk), detail__format="xlsx"
    ).exists()
    item = client.get(reverse("catalogue:volume-xlsx", args=[items[0].pk]))
    assert item.status_code == 404
