"""Fixity audits (定期检测), storage monitoring and storage alerts: dangan/integrity/fixity.py,
storage.py, alerts.py and their pages."""

import datetime
import io
import json
import os
import time

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from dangan.accounts.models import Role
from dangan.audit.models import AuditEvent
from dangan.content.services import add_files
from dangan.integrity import fixity, ledger
from dangan.integrity.alerts import handle_alert
from dangan.integrity.models import BlobFixity, FixityRun, StorageAlert
from tests.content.conftest import jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def alert_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DANGAN_ALERT_EMAILS = ["it@county.example"]
    settings.DANGAN_FIXITY_MB_PER_S = 0


@pytest.fixture
def blobs(store, make_record, archivist):
    """Three blobs in the configured store, as pages of one record."""
    record = make_record(actor=archivist)
    files = [(f"p{n}.jpg", io.BytesIO(jpeg(50_000))) for n in range(3)]
    return [page.blob for page in add_files(actor=archivist, record=record, files=files)]


def _flip_a_byte(store, blob):
    if hasattr(store, "root"):
        path = store.path(blob.key)
        path.chmod(0o644)
        data = bytearray(path.read_bytes())
        data[1000] ^= 0x01
        path.write_bytes(bytes(data))
    else:
        data = bytearray(store.open(blob.key).read())
        data[1000] ^= 0x01
        store.client.put_object(
            Bucket=store.bucket, Key=store.object_key(blob.key), Body=bytes(data)
        )


def _delete(store, blob):
    if hasattr(store, "root"):
        store.path(blob.key).unlink()
    else:
        store.client.delete_object(Bucket=store.bucket, Key=store.object_key(blob.key))


def test_a_round_fills_the_sm3_a_stopped_worker_left_empty(blobs, store):
    from dangan.content.digests import digest_stream
    from dangan.content.models import Blob

    # No worker ran the SM3 tasks of the upload (this test commits nothing, as after a crash).
    assert set(Blob.objects.values_list("sm3", flat=True)) == {""}
    _flip_a_byte(store, blobs[0])
    run, _progress = fixity.run_fixity(trigger="test", everything=True)
    assert run.failures == 1  # the changed blob: named by the audit, no SM3 made of it
    for blob in blobs:
        blob.refresh_from_db()
        stream = store.open(blob.key)
        expected = digest_stream(stream)[1]
        stream.close()
        assert blob.sm3 == ("" if blob == blobs[0] else expected)


def test_intact_blobs_are_read_and_their_reading_kept(blobs):
    run, progress = fixity.run_fixity(trigger="test", everything=True)
    assert run.blobs == 3 and run.failures == 0 and not progress.failures
    assert run.bytes == sum(b.size for b in blobs)
    states = BlobFixity.objects.filter(blob__in=blobs)
    assert {s.outcome for s in states} == {BlobFixity.Outcome.OK}
    assert all(s.last_ok_at == s.checked_at for s in states)
    assert not StorageAlert.objects.exists()


def test_a_flipped_byte_raises_an_alert_logged_and_mailed(
    blobs, store, caplog, django_capture_on_commit_callbacks
):
    _flip_a_byte(store, blobs[1])
    with django_capture_on_commit_callbacks(execute=True):
        run, progress = fixity.run_fixity(trigger="test", everything=True)
    assert run.failures == 1
    state = BlobFixity.objects.get(blob=blobs[1])
    assert state.outcome == BlobFixity.Outcome.CHANGED and state.last_ok_at is None
    alert = StorageAlert.objects.get()
    assert alert.kind == StorageAlert.Kind.BLOB_CHANGED
    assert alert.subject == f"blob:{blobs[1].sha256}"
    assert alert.details["records"] == [blobs[1].pages.get().record_id]
    assert blobs[1].sha256 in caplog.text
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["it@county.example"]
    assert blobs[1].sha256 in mail.outbox[0].body
    assert StorageAlert.objects.get().mailed_at is not None
    assert AuditEvent.objects.filter(object_type="integrity.storagealert").count() == 1


def test_a_missing_blob_is_alerted_once_and_counted_again(
    blobs, store, django_capture_on_commit_callbacks
):
    _delete(store, blobs[0])
    with django_capture_on_commit_callbacks(execute=True):
        fixity.run_fixity(trigger="test", everything=True)
        fixity.run_fixity(trigger="test", everything=True)
    alert = StorageAlert.objects.get()
    assert alert.kind == StorageAlert.Kind.BLOB_MISSING and alert.times == 2
    assert BlobFixity.objects.get(blob=blobs[0]).outcome == BlobFixity.Outcome.MISSING
    assert len(mail.outbox) == 1  # mailed when raised, not at every sighting


def test_a_blob_removed_with_its_destroyed_record_is_no_failure(blobs, store):
    _delete(store, blobs[2])
    ledger.append(kind=ledger.CONTENT_REMOVED, subject=f"blob:{blobs[2].sha256}")
    run, _progress = fixity.run_fixity(trigger="test", everything=True)
    assert run.failures == 0
    assert BlobFixity.objects.get(blob=blobs[2]).outcome == BlobFixity.Outcome.REMOVED
    assert not StorageAlert.objects.exists()


def test_orphan_blobs_in_the_store_are_reported(blobs, store):
    with store.receive() as incoming:
        incoming.write(jpeg(2000))
        orphan = incoming.commit()
    assert fixity.find_orphans(store) == []  # younger than the grace: maybe an upload under way
    later = timezone.now() + fixity.ORPHAN_GRACE + datetime.timedelta(minutes=1)
    assert fixity.find_orphans(store, now=later) == [orphan.sha256]


def test_the_command_reports_orphans_and_exits_non_zero(local_store, make_record, archivist):
    record = make_record(actor=archivist)
    files = [(f"p{n}.jpg", io.BytesIO(jpeg(5_000))) for n in range(3)]
    add_files(actor=archivist, record=record, files=files)
    with local_store.receive() as incoming:
        incoming.write(jpeg(2000))
        orphan = incoming.commit()
    old = time.time() - 2 * 3600
    os.utime(local_store.path(orphan.key), (old, old))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("fixity", "--all", "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["blobs"] == 3 and summary["orphans"] == 1
    assert summary["failures"][-1]["orphans"] == [orphan.sha256]
    assert StorageAlert.objects.get().kind == StorageAlert.Kind.ORPHANS
    assert {place["name"] for place in summary["storage"]} >= {"content", "data"}


def test_the_bandwidth_cap_is_held(local_store, make_record, archivist):
    record = make_record(actor=archivist)
    add_files(
        actor=archivist,
        record=record,
        files=[(f"{n}.jpg", io.BytesIO(jpeg(1_000_000))) for n in range(4)],
    )
    started = time.monotonic()
    run, _progress = fixity.run_fixity(trigger="test", everything=True, mb_per_s=8)
    capped = time.monotonic() - started
    assert run.bytes > 4_000_000
    assert capped >= 0.45  # 4 MB at 8 MB/s: half a second, whatever the disk could do
    assert run.bytes / 1e6 / capped < 8 * 1.1


def test_the_throttle_sleeps_only_when_ahead():
    throttle = fixity.Throttle(10)
    started = time.monotonic()
    for _ in range(5):
        throttle.spent(1_000_000)
    assert 0.45 <= time.monotonic() - started < 1.5
    unlimited = fixity.Throttle(0)
    started = time.monotonic()
    unlimited.spent(10**12)
    assert time.monotonic() - started < 0.1


def test_a_round_reads_its_share_oldest_first(local_store, make_record, archivist, settings):
    record = make_record(actor=archivist)
    pages = add_files(
        actor=archivist,
        record=record,
        files=[(f"{n}.jpg", io.BytesIO(jpeg(10_000))) for n in range(10)],
    )
    settings.DANGAN_FIXITY_PERIOD_DAYS = 10
    settings.DANGAN_FIXITY_ROUND_MINUTES = 24 * 60  # a tenth of the period: a tenth of the store
    assert len(fixity.due_blobs()) == 10  # never read: all overdue
    fixity.run_fixity(trigger="test", everything=True)
    now = timezone.now()
    oldest = pages[7].blob
    BlobFixity.objects.filter(blob=oldest).update(checked_at=now - datetime.timedelta(days=3))
    due = fixity.due_blobs(now=now)
    assert due == [oldest]  # its share is one blob, and it is the one read longest ago
    BlobFixity.objects.update(checked_at=now - datetime.timedelta(days=11))
    assert len(fixity.due_blobs(now=now)) == 10  # all overdue: all read in this round
    settings.DANGAN_FIXITY_ROUND_MINUTES = 1
    assert len(fixity.due_blobs(now=now, mb_per_s=0.0002)) == 1  # the cap bounds a round


def test_the_worker_round_queues_the_next_one(blobs, settings):
    from django_tasks_db.models import DBTaskResult

    from dangan.integrity.tasks import fixity_round_task

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    DBTaskResult.objects.all().delete()
    result = fixity_round_task.call()
    assert result["blobs"] == 3 and result["failures"] == 0
    waiting = DBTaskResult.objects.filter(task_path=fixity.ROUND_TASK, status="READY")
    assert waiting.count() == 1 and waiting.get().run_after > timezone.now()
    assert fixity.ensure_scheduled() is False  # one round waiting is enough
    assert FixityRun.objects.get().trigger == "schedule"


def test_low_free_space_raises_an_alert(blobs, settings):
    settings.DANGAN_STORAGE_MIN_FREE_PERCENT = 101
    run, _progress = fixity.run_fixity(trigger="test", blobs=[])
    low = StorageAlert.objects.filter(kind=StorageAlert.Kind.LOW_SPACE)
    assert low.count() == len({p["where"] for p in run.storage if p["free"] is not None})
    assert all(place["low"] for place in run.storage if place["free"] is not None)


def test_an_unreadable_place_raises_an_alert(local_store, settings, tmp_path):
    from dangan.integrity.storage import check_storage

    broken = tmp_path / "not-a-folder"
    broken.write_text("a file where the data folder should be")
    settings.DATA_DIR = broken
    status = check_storage()
    data = next(p for p in status if p["name"] == "data")
    assert "NotADirectoryError" in data["problem"]
    alert = StorageAlert.objects.get(kind=StorageAlert.Kind.STORE_UNREADABLE)
    assert str(broken) in alert.subject


# --- Handling alerts ---------------------------------------------------------------------------
@pytest.fixture
def alert(blobs, store):
    _delete(store, blobs[0])
    fixity.run_fixity(trigger="test", everything=True)
    return StorageAlert.objects.get()


def test_an_archivist_handles_an_alert_with_a_note(alert, archivist, logged_in):
    client = logged_in(archivist)
    page = client.get(f"/storage/alerts/{alert.pk}/")
    assert page.status_code == 200
    assert alert.subject in page.content.decode()
    refused = client.post(f"/storage/alerts/{alert.pk}/", {"action": "resolve", "note": ""})
    assert refused.status_code == 200
    alert.refresh_from_db()
    assert alert.status == StorageAlert.Status.OPEN
    client.post(f"/storage/alerts/{alert.pk}/", {"action": "acknowledge"})
    client.post(
        f"/storage/alerts/{alert.pk}/",
        {"action": "resolve", "note": "Restored from backup 20261101T020000Z."},
    )
    alert.refresh_from_db()
    assert alert.status == StorageAlert.Status.RESOLVED
    steps = list(alert.actions.values_list("by_name", "action", "note"))
    assert steps == [
        (archivist.username, "acknowledge", ""),
        (archivist.username, "resolve", "Restored from backup 20261101T020000Z."),
    ]
    assert (
        AuditEvent.objects.filter(
            object_type="integrity.storagealert", action=AuditEvent.Action.UPDATE
        ).count()
        == 2
    )


def test_the_alert_lists_only_records_the_reader_may_see(alert, make_user, logged_in):
    outsider = make_user(grants=[])
    client = logged_in(outsider)
    body = client.get(f"/storage/alerts/{alert.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    record = alert.details["records"][0]
    assert f"/catalogue/{record}/" not in body
    assert "1 more record outside your rights" in body


@pytest.mark.parametrize(
    ("role", "sees", "handles"),
    [
        (Role.ARCHIVIST, 200, True),
        (Role.SYSTEM_ADMIN, 200, True),
        (Role.AUDITOR, 200, False),
        (Role.SECURITY_ADMIN, 403, False),
        (Role.LEADER, 403, False),
        (Role.CITIZEN, 403, False),
    ],
)
def test_who_sees_and_handles_alerts(alert, make_user, logged_in, role, sees, handles):
    client = logged_in(make_user(role=role, grants=[]))
    assert client.get("/storage/alerts/").status_code == sees
    assert client.get("/storage/backups/").status_code == sees
    client.post(f"/storage/alerts/{alert.pk}/", {"action": "resolve", "note": "done"})
    alert.refresh_from_db()
    assert (alert.status == StorageAlert.Status.RESOLVED) is handles


def test_the_auditor_may_not_handle_through_the_service(alert, make_user):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        handle_alert(actor=make_user(role=Role.AUDITOR), alert=alert, action="acknowledge")


def test_the_dashboard_shows_the_storage_panel(alert, archivist, logged_in):
    body = logged_in(archivist).get("/stats/").content.decode()
    assert 'id="storage-panel"' in body
    assert 'id="storage-open-alerts">1<' in body


def test_a_sealed_blob_changed_at_rest_is_found(settings, tmp_path, make_record, archivist):
    from dangan.content.stores import get_store

    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    settings.DATA_DIR = tmp_path
    settings.DANGAN_CONTENT_ENCRYPTION = "aes-256-gcm"
    record = make_record(actor=archivist)
    [page] = add_files(actor=archivist, record=record, files=[("a.jpg", io.BytesIO(jpeg(50_000)))])
    assert fixity.run_fixity(trigger="test", everything=True)[0].failures == 0
    path = get_store().blob_file(page.blob.key)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x01
    path.write_bytes(bytes(data))
    run, _progress = fixity.run_fixity(trigger="test", everything=True)
    assert run.failures == 1
    assert BlobFixity.objects.get(blob=page.blob).outcome == BlobFixity.Outcome.CHANGED
    assert StorageAlert.objects.get().kind == StorageAlert.Kind.BLOB_CHANGED


@pytest.fixture
def rq_queue(settings):
    """The task queue in Redis (DANGAN_TASKS=rq), on a database of its own; emptied after."""
    import django_rq
    from redis.exceptions import ConnectionError as RedisDown

    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:6379/11"}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    queue = django_rq.get_queue("default")
    try:
        queue.connection.ping()
    except RedisDown:
        pytest.skip("no Redis at 127.0.0.1:6379")

    def rounds(path):
        ids = queue.scheduled_job_registry.get_job_ids() + queue.get_job_ids()
        return [
            job
            for job in queue.job_class.fetch_many(ids, queue.connection)
            if job and job.func_name == path
        ]

    yield rounds
    for path in (fixity.ROUND_TASK, "dangan.assist.tasks.assist_round_task"):
        for job in rounds(path):
            job.delete()


def test_under_the_redis_queue_one_round_waits_however_often_the_schedule_is_asked(
    rq_queue, settings
):
    """Every start (``dangan run`` migrates) and every round's end asks for the next round:
    a second chain of rounds would read the store twice as often and write each round twice."""
    from dangan.assist import tasks as assist_tasks

    settings.DANGAN_ASSIST_ROUND_DAYS = 7
    assert fixity.ensure_scheduled() is True
    assert fixity.ensure_scheduled() is False  # a second start
    assert fixity.ensure_scheduled(from_round=True) is False  # one is waiting already
    assert len(rq_queue(fixity.ROUND_TASK)) == 1
    assert assist_tasks.ensure_scheduled() is True
    assert assist_tasks.ensure_scheduled() is False
    assert len(rq_queue(assist_tasks.ROUND_TASK)) == 1
