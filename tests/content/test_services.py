"""Adding files to a record and ordering its pages, on both stores."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from dangan.accounts.models import Role
from dangan.audit.models import AuditEvent
from dangan.audit.services import verify_chain
from dangan.content.digests import sm3
from dangan.content.models import Blob, Page
from dangan.content.services import (
    add_files,
    ensure_sm3,
    keep_bytes,
    move_page,
    reorder_pages,
    sanitize_filename,
)
from dangan.content.tasks import fill_sm3_task
from dangan.integrity import ledger
from dangan.integrity.models import LedgerEntry

from .conftest import jpeg, leftovers, pdf


def files(*items):
    return [(name, io.BytesIO(data)) for name, data in items]


@pytest.fixture
def record(make_record):
    return make_record()


def test_files_become_pages_in_the_order_given(store, archivist, record):
    pages = add_files(
        actor=archivist,
        record=record,
        files=files(("p1.jpg", jpeg()), ("p2.pdf", pdf()), ("p3.jpg", jpeg())),
    )
    assert [(p.position, p.filename, p.blob.format_name) for p in pages] == [
        (1, "p1.jpg", "JPEG"),
        (2, "p2.pdf", "PDF"),
        (3, "p3.jpg", "JPEG"),
    ]
    more = add_files(actor=archivist, record=record, files=files(("p4.jpg", jpeg())))
    assert more[0].position == 4
    assert all(store.exists(p.blob.key) for p in pages + more)
    assert leftovers(store) == []


def test_identical_upload_is_stored_once(store, archivist, record, make_record):
    same = jpeg(seed=b"same scan")
    add_files(actor=archivist, record=record, files=files(("a.jpg", same)))
    add_files(actor=archivist, record=make_record(), files=files(("b.jpg", same)))
    assert Blob.objects.count() == 1
    assert Page.objects.count() == 2


def test_a_refused_file_refuses_the_upload_and_leaves_nothing(store, archivist, record):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        add_files(
            actor=archivist,
            record=record,
            files=files(
                ("good.jpg", jpeg(2 * 1024 * 1024)),
                ("setup.pdf", b"MZ" + bytes(5000)),
                ("page.html", b"<html><script></script></html>"),
                ("ok.pdf", pdf()),
            ),
        )
    messages = refused.value.messages
    assert len(messages) == 2
    assert "setup.pdf" in messages[0] and "page.html" in messages[1]
    assert Page.objects.count() == 0
    assert Blob.objects.count() == 0
    assert leftovers(store) == []
    assert not AuditEvent.objects.filter(
        object_id=str(record.pk), action=AuditEvent.Action.UPDATE
    ).exists()


def test_only_an_archivist_with_rights_on_the_record_may_add_files(local_store, make_user, record):
    reader = make_user(role=Role.READING_CLERK)
    with pytest.raises(PermissionDenied):
        add_files(actor=reader, record=record, files=files(("a.jpg", jpeg())))
    assert Page.objects.count() == 0


def test_adding_files_is_audited_with_digests(local_store, archivist, record):
    (page,) = add_files(actor=archivist, record=record, files=files(("a.jpg", jpeg())))
    event = AuditEvent.objects.get(
        object_id=str(record.pk), action=AuditEvent.Action.UPDATE, detail__change="pages_added"
    )
    assert event.actor == archivist
    assert event.detail["pages"][0]["sha256"] == page.blob.sha256
    assert event.detail["pages"][0]["size"] == page.blob.size
    assert verify_chain() == []


# --- SM3, computed after the bytes are stored -----------------------------------------------------
def hex_sm3(data: bytes) -> str:
    digest = sm3()
    digest.update(data)
    return digest.hexdigest()


def sm3_entries(blob) -> list[str]:
    return list(
        LedgerEntry.objects.filter(kind=ledger.CONTENT_SM3, subject=f"blob:{blob.sha256}")
        .order_by("seq")
        .values_list("digest", flat=True)
    )


def test_sm3_is_computed_by_the_task_queued_when_the_upload_commits(
    store, archivist, record, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    data = jpeg(3 * 1024 * 1024)
    with django_capture_on_commit_callbacks(execute=True):
        (page,) = add_files(actor=archivist, record=record, files=files(("a.jpg", data)))
    blob = Blob.objects.get(pk=page.blob_id)
    assert blob.sm3 == ""  # the upload itself only computed SHA-256
    added = LedgerEntry.objects.get(kind=ledger.CONTENT_ADDED, subject=f"blob:{blob.sha256}")
    assert added.digest == f"sha256:{blob.sha256}"

    queued = DBTaskResult.objects.get(task_path="dangan.content.tasks.fill_sm3_task")
    assert queued.args_kwargs["args"] == [[blob.pk]]
    assert fill_sm3_task.call(*queued.args_kwargs["args"]) == 1
    blob.refresh_from_db()
    assert blob.sm3 == hex_sm3(data)
    assert sm3_entries(blob) == [f"sha256:{blob.sha256} sm3:{blob.sm3}"]


def test_bytes_made_in_memory_are_kept_with_their_sm3_and_queue_no_task(
    db, store, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    data = pdf()
    with django_capture_on_commit_callbacks(execute=True):
        blob = keep_bytes(name="1.pdf", data=data)
    assert blob.sm3 == hex_sm3(data)
    assert Blob.objects.get(pk=blob.pk).sm3 == blob.sm3
    added = LedgerEntry.objects.get(kind=ledger.CONTENT_ADDED, subject=f"blob:{blob.sha256}")
    assert added.digest == f"sha256:{blob.sha256} sm3:{blob.sm3}"  # one entry says both
    assert sm3_entries(blob) == []
    assert not DBTaskResult.objects.filter(task_path="dangan.content.tasks.fill_sm3_task").exists()
    assert ensure_sm3(blob) == blob.sm3


@pytest.mark.django_db(transaction=True)
def test_ensure_sm3_computes_once_even_when_two_run_at_once(local_store, archivist, record):
    import threading

    from django.db import connection

    data = jpeg(4 * 1024 * 1024)
    (page,) = add_files(actor=archivist, record=record, files=files(("a.jpg", data)))
    start, found = threading.Barrier(2), []

    def compute():
        blob = Blob.objects.get(pk=page.blob_id)  # each its own row, SM3 still empty
        start.wait()
        try:
            found.append(ensure_sm3(blob))
        finally:
            connection.close()

    threads = [threading.Thread(target=compute) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == [hex_sm3(data)] * 2
    assert len(sm3_entries(page.blob)) == 1
    assert ensure_sm3(Blob.objects.get(pk=page.blob_id)) == hex_sm3(data)  # nothing new
    assert len(sm3_entries(page.blob)) == 1


def test_ensure_sm3_refuses_bytes_that_changed_in_the_store(local_store, archivist, record):
    (page,) = add_files(actor=archivist, record=record, files=files(("a.jpg", jpeg())))
    path = local_store.path(page.blob.key)
    path.chmod(0o644)
    path.write_bytes(jpeg())
    with pytest.raises(ValueError, match="changed in the store"):
        ensure_sm3(page.blob)
    assert Blob.objects.get(pk=page.blob_id).sm3 == ""
    assert sm3_entries(page.blob) == []


def test_reorder_puts_pages_in_the_new_order_and_is_audited(local_store, archivist, record):
    a, b, c = add_files(
        actor=archivist,
        record=record,
        files=files(("a.jpg", jpeg()), ("b.jpg", jpeg()), ("c.jpg", jpeg())),
    )
    reorder_pages(actor=archivist, record=record, order=[c.pk, a.pk, b.pk])
    assert list(record.pages.order_by("position").values_list("filename", flat=True)) == [
        "c.jpg",
        "a.jpg",
        "b.jpg",
    ]
    event = AuditEvent.objects.filter(detail__change="pages_reordered").get()
    assert event.before == {"page_order": [a.pk, b.pk, c.pk]}
    assert event.after == {"page_order": [c.pk, a.pk, b.pk]}
    move_page(actor=archivist, record=record, page_id=b.pk, offset=-1)
    assert list(record.pages.order_by("position").values_list("filename", flat=True)) == [
        "c.jpg",
        "b.jpg",
        "a.jpg",
    ]


def test_reorder_must_name_every_page_once(local_store, archivist, record):
    a, b = add_files(
        actor=archivist, record=record, files=files(("a.jpg", jpeg()), ("b.jpg", jpeg()))
    )
    for order in ([a.pk], [a.pk, a.pk], [a.pk, b.pk, 999999]):
        with pytest.raises(ValidationError):
            reorder_pages(actor=archivist, record=record, order=order)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\张三\\扫描 001.tif", "扫描 001.tif"),
        ('a<b>:"|?*.pdf', "a_b_.pdf"),
        ("..", "file"),
        ("\x00evil\r\n.jpg", "_evil_.jpg"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_file_names_are_made_safe(given, kept):
    assert sanitize_filename(given) == kept
