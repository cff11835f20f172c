"""归档接口: a business system files a record with its metadata and files in one request,
idempotently by its own id, through the same checks as an upload."""

import io
import json

import pytest

from dangan.catalogue.models import Record
from dangan.content.models import Page

from ..content.conftest import jpeg
from .test_records import _payload

pytestmark = pytest.mark.django_db


def _post(client, sender_id, record, files):
    return client.post(
        "/api/v1/filings/",
        {
            "sender_id": sender_id,
            "record": json.dumps(record, ensure_ascii=False),
            "files": [io.BytesIO(data) for _name, data in files],
        },
        format="multipart",
    )


def test_posting_the_same_record_twice_creates_it_once(api):
    client = api("archivist")
    scan = jpeg()
    first = _post(client, "SI-2026-000123", _payload(), [("p1.jpg", scan)])
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["created"] is True and body["record"]["state"] == "filed"
    record = Record.objects.get(pk=body["record"]["id"])
    assert Page.objects.filter(record=record).count() == 1

    again = _post(client, "SI-2026-000123", _payload(), [("p1.jpg", scan)])
    assert again.status_code == 200, again.content
    assert again.json()["record"]["id"] == record.pk and again.json()["created"] is False
    assert Record.objects.filter(title=_payload()["title"]).count() == 1
    assert Page.objects.filter(record=record).count() == 1


def test_the_same_id_with_other_content_is_refused(api):
    client = api("archivist")
    assert _post(client, "SI-7", _payload(), []).status_code == 201
    answer = _post(client, "SI-7", _payload(title="[另一份档案]"), [])
    assert answer.status_code == 409
    assert answer.json()["code"] == "filing_conflict"
    assert not Record.objects.filter(title="[另一份档案]").exists()


def test_a_refused_file_leaves_nothing_behind(api):
    client = api("archivist")
    answer = _post(client, "SI-8", _payload(), [("virus.exe", b"MZ\x90\x00" + bytes(500))])
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "format_executable"
    assert not Record.objects.filter(title=_payload()["title"]).exists()
    # metadata that fails the category's schema: an API error object, nothing stored
    bad = _post(client, "SI-9", _payload(metadata={"custody_date": "不是日期"}), [])
    assert bad.status_code == 400 and bad.json()["errors"]
    assert not Record.objects.filter(title=_payload()["title"]).exists()


def test_an_anonymous_caller_cannot_file(api):
    assert _post(api("anonymous"), "SI-1", _payload(), []).status_code in (401, 403)
