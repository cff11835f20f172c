"""The record's files as a user meets them: upload, download, page order, and the API."""

import hashlib

import pytest
from django.template import Context, RequestContext, Template
from django.test import RequestFactory
from django.urls import reverse

from dangan.accounts.models import Role, Secrecy
from dangan.audit.models import AuditEvent
from dangan.content.models import Page

from .conftest import jpeg, pdf


@pytest.fixture
def record(make_record):
    return make_record()


def upload(client, record, *items, json=True):
    from django.core.files.uploadedfile import SimpleUploadedFile

    headers = {"Accept": "application/json"} if json else {}
    return client.post(
        reverse("content:upload", args=[record.pk]),
        {"files": [SimpleUploadedFile(name, data) for name, data in items]},
        headers=headers,
    )


def test_upload_several_files_from_the_record_page(local_store, logged_in, archivist, record):
    client = logged_in(archivist)
    answer = upload(client, record, ("scan1.jpg", jpeg()), ("scan2.pdf", pdf()))
    assert answer.status_code == 201
    assert [p["filename"] for p in answer.json()["pages"]] == ["scan1.jpg", "scan2.pdf"]
    page = client.get(reverse("content:record-files", args=[record.pk]))
    assert "scan1.jpg" in page.text and "scan2.pdf" in page.text
    assert 'src="/static/content/upload.js"' in page.text


def test_a_refused_upload_says_which_file_and_why(local_store, logged_in, archivist, record):
    client = logged_in(archivist)
    answer = upload(client, record, ("invoice.pdf", b"MZ" + bytes(3000)))
    assert answer.status_code == 400
    assert "invoice.pdf" in answer.json()["errors"][0]
    form = upload(client, record, ("invoice.pdf", b"MZ" + bytes(3000)), json=False)
    assert form.status_code == 302
    assert "invoice.pdf" in client.get(form.url).text
    assert Page.objects.count() == 0


def test_download_streams_the_file_under_its_name_and_is_audited(
    store, logged_in, archivist, record
):
    client = logged_in(archivist)
    data = pdf(body=b"x" * 3_000_000)
    (page,) = upload(client, record, ("扫描 件.pdf", data)).json()["pages"]
    answer = client.get(page["download_url"])
    assert answer.status_code == 200
    assert answer.streaming
    assert b"".join(answer.streaming_content) == data
    assert answer["Content-Type"] == "application/pdf"
    assert answer["Content-Length"] == str(len(data))
    assert "attachment" in answer["Content-Disposition"]
    assert "filename*=utf-8''%E6%89%AB%E6%8F%8F%20%E4%BB%B6.pdf" in answer["Content-Disposition"]
    event = AuditEvent.objects.get(action=AuditEvent.Action.DOWNLOAD)
    assert (event.actor, event.object_id) == (archivist, str(record.pk))
    assert event.detail["sha256"] == hashlib.sha256(data).hexdigest()


def test_a_user_who_may_not_see_the_record_gets_404(
    local_store, logged_in, archivist, make_user, make_record
):
    secret = make_record(secrecy=Secrecy.CONFIDENTIAL)
    (page,) = upload(logged_in(archivist), secret, ("a.jpg", jpeg())).json()["pages"]
    outsider = make_user(role=Role.READING_CLERK, grants=({"max_secrecy": Secrecy.INTERNAL},))
    client = logged_in(outsider)
    assert client.get(page["download_url"]).status_code == 404
    assert client.get(reverse("content:record-files", args=[secret.pk])).status_code == 404
    assert upload(client, secret, ("b.jpg", jpeg())).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).exists()


def test_a_reader_sees_the_files_but_no_upload_and_may_not_upload(
    local_store, logged_in, archivist, make_user, record
):
    upload(logged_in(archivist), record, ("a.jpg", jpeg()))
    reader = make_user(role=Role.READING_CLERK)
    client = logged_in(reader)
    page = client.get(reverse("content:record-files", args=[record.pk]))
    assert "a.jpg" in page.text and "data-upload" not in page.text
    assert upload(client, record, ("b.jpg", jpeg())).status_code == 403


def test_move_buttons_and_drag_order_change_the_page_order(
    local_store, logged_in, archivist, record
):
    client = logged_in(archivist)
    a, b, c = (
        p["id"]
        for p in upload(
            client, record, ("a.jpg", jpeg()), ("b.jpg", jpeg()), ("c.jpg", jpeg())
        ).json()["pages"]
    )
    url = reverse("content:reorder", args=[record.pk])
    assert client.post(url, {"page": c, "move": "up"}).status_code == 302
    assert list(record.pages.values_list("id", flat=True).order_by("position")) == [a, c, b]
    answer = client.post(url, {"order": f"{b},{a},{c}"}, headers={"Accept": "application/json"})
    assert [p["id"] for p in answer.json()["pages"]] == [b, a, c]
    bad = client.post(url, {"order": f"{b},{a}"}, headers={"Accept": "application/json"})
    assert bad.status_code == 400


def test_the_record_page_includes_the_files_with_one_line(local_store, archivist, record):
    request = RequestFactory().get("/")
    request.user = archivist
    html = Template("{% load content %}{% record_files record %}").render(
        RequestContext(request, {"record": record})
    )
    assert 'class="record-files"' in html and "data-upload" in html
    assert Template("{% load content %}").render(Context()) == ""


@pytest.mark.urls("tests.content.urls")
def test_the_api_uploads_lists_orders_and_downloads(store, logged_in, archivist, record):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = logged_in(archivist)
    url = f"/api/v1/records/{record.pk}/pages/"
    created = client.post(
        url, {"files": [SimpleUploadedFile("a.jpg", jpeg()), SimpleUploadedFile("b.pdf", pdf())]}
    )
    assert created.status_code == 201, created.content
    a, b = created.json()
    assert (a["format"], b["format"]) == ("JPEG", "PDF 1.7")
    listed = client.get(url).json()
    assert [p["filename"] for p in listed] == ["a.jpg", "b.pdf"]
    ordered = client.put(
        f"{url}order/", {"order": [b["id"], a["id"]]}, content_type="application/json"
    )
    assert [p["filename"] for p in ordered.json()] == ["b.pdf", "a.jpg"]
    content = client.get(b["content_url"])
    assert hashlib.sha256(b"".join(content.streaming_content)).hexdigest() == b["sha256"]
    refused = client.post(url, {"files": [SimpleUploadedFile("x.pdf", b"\x7fELF" + bytes(99))]})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "format_executable"
    assert "x.pdf" in refused.json()["errors"][0]["detail"]


def test_a_missing_file_gets_a_clear_answer_and_raises_the_alert(
    local_store, logged_in, archivist, record
):
    from dangan.integrity.models import BlobFixity, StorageAlert

    client = logged_in(archivist)
    (page,) = upload(client, record, ("scan.pdf", pdf())).json()["pages"]
    stored = Page.objects.get(pk=page["id"]).blob
    local_store.path(stored.key).unlink()  # a disk fault, an operator's mistake

    answer = client.get(page["download_url"])
    assert answer.status_code == 503
    assert "无法读取" in answer.text and stored.sha256[:12] in answer.text
    api = client.get(f"/api/v1/pages/{page['id']}/content/")
    assert api.status_code == 503
    assert api.json()["code"] == "blob_unreadable"

    alert = StorageAlert.objects.get()
    assert (alert.kind, alert.subject, alert.times) == ("blob_missing", f"blob:{stored.sha256}", 2)
    assert BlobFixity.objects.get(blob=stored).outcome == BlobFixity.Outcome.MISSING
    # What was not handed out is not written down as a download.
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).exists()
