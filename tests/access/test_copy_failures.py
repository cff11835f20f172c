"""A certified copy the worker cannot make does not stay "being prepared" for ever: the request
says it failed and why (to the clerk and to the citizen, in their language), the worker's sweep
tries again a few times, a clerk tries again with a button, and every try is audited."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from dangan.access.models import AccessRequest, Certificate
from dangan.access.services import (
    COPY_ATTEMPTS,
    approve_request,
    deliver_copy,
    retry_failed_copies,
    submit_request,
)
from dangan.access.tasks import deliver_copy_task
from dangan.accounts.models import Role
from dangan.audit.models import AuditEvent
from dangan.content.models import Page
from dangan.content.services import add_files
from dangan.content.stores import get_store

from .conftest import scan_png

pytestmark = pytest.mark.django_db

TASK = "dangan.access.tasks.deliver_copy_task"


@pytest.fixture
def approved(settings, tmp_path, make_record, make_user, archivist):
    """A controlled record with one page whose file has gone from the store, and a request for
    it approved: the worker's copy is queued."""
    settings.CONTENT_DIR = tmp_path / "content"
    settings.CONTENT_FSYNC = False
    settings.DANGAN_COPIES_IN_BACKGROUND = True
    record = make_record(actor=archivist, openness="controlled")
    add_files(actor=archivist, record=record, files=[("p.png", scan_png())])
    clerk = make_user(role=Role.READING_CLERK)
    req = submit_request(requester=clerk, record=record, reason="核对")
    approve_request(actor=archivist, access_request=req)
    return req


def _page_file(req):
    page = Page.objects.get(record=req.record, role=Page.Role.ORIGINAL)
    return get_store().blob_file(page.blob.key)


def _events(req):
    return list(
        AuditEvent.objects.filter(object_type="access.accessrequest", object_id=str(req.pk))
        .order_by("pk")
        .values_list("detail", flat=True)
    )


def test_a_copy_whose_page_is_missing_fails_with_the_reason_and_the_clerks_retry_delivers_it(
    approved, archivist, logged_in, django_capture_on_commit_callbacks
):
    page_file = _page_file(approved)
    away = page_file.with_name(page_file.name + ".away")
    page_file.rename(away)

    assert deliver_copy_task.call(approved.pk, archivist.pk) == AccessRequest.State.FAILED
    approved.refresh_from_db()
    assert approved.state == AccessRequest.State.FAILED and approved.certificate is None
    assert approved.copy_failure == AccessRequest.CopyFailure.PAGE_UNREADABLE
    assert approved.copy_attempts == 1 and approved.copy_failed_at is not None
    assert not Certificate.objects.filter(request=approved).exists()
    assert _events(approved)[-1]["failure"] == "page_unreadable"

    client = logged_in(archivist)
    url = reverse("access:request-detail", args=[approved.pk])
    page = client.get(url).content.decode()
    with translation.override("zh-hans"):
        reason = str(AccessRequest.CopyFailure.PAGE_UNREADABLE.label)
        state = str(AccessRequest.State.FAILED.label)
    assert reason.startswith("档案的某一页无法从存储中读取")  # in the clerk's language
    assert reason in page and state in page
    assert "being-prepared" not in page and 'http-equiv="refresh"' not in page
    assert 'value="retry-copy"' in page

    away.rename(page_file)  # the administrator restored the page from a backup
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(url, {"action": "retry-copy"})
    assert answer.status_code == 302
    approved.refresh_from_db()
    assert approved.state == AccessRequest.State.APPROVED
    retry = _events(approved)[-1]
    assert retry["retry"] == 2 and retry["failure"] == "page_unreadable"
    queued = DBTaskResult.objects.filter(task_path=TASK).order_by("enqueued_at").last()
    assert approved.copy_task_id == str(queued.id)

    # the retry's task, and the first task run again late: one copy
    assert deliver_copy_task.call(*queued.args_kwargs["args"]) == AccessRequest.State.DELIVERED
    assert deliver_copy_task.call(approved.pk, archivist.pk) == AccessRequest.State.DELIVERED
    approved.refresh_from_db()
    assert approved.copy_attempts == 2 and approved.copy_failure == ""
    assert Certificate.objects.filter(request=approved).count() == 1
    page = client.get(url).content.decode()
    assert approved.certificate.number in page and "copy-failed" not in page


def test_only_a_failed_copy_is_retried_and_only_by_the_desk(approved, archivist, make_user):
    from django.core.exceptions import PermissionDenied, ValidationError

    from dangan.access.services import retry_copy

    with pytest.raises(ValidationError):
        retry_copy(actor=archivist, access_request=approved)  # still being prepared
    _page_file(approved).unlink()
    deliver_copy(request_id=approved.pk, actor=archivist)
    with pytest.raises(PermissionDenied):
        retry_copy(actor=make_user(role=Role.TOWN_CLERK), access_request=approved)


def test_the_sweep_tries_a_failed_copy_again_a_few_times_then_leaves_it_to_a_clerk(
    approved, archivist, django_capture_on_commit_callbacks
):
    _page_file(approved).unlink()
    deliver_copy(request_id=approved.pk, actor=archivist)
    assert retry_failed_copies() == []  # it failed a moment ago: not yet
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    AccessRequest.objects.filter(pk=approved.pk).update(copy_failed_at=long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        assert retry_failed_copies() == [approved.pk]
    approved.refresh_from_db()
    assert approved.state == AccessRequest.State.APPROVED
    retry = _events(approved)[-1]
    assert retry["retry"] == 2 and AuditEvent.objects.filter(detail__retry=2).first().actor is None

    for _attempt in range(2, COPY_ATTEMPTS + 1):
        deliver_copy(request_id=approved.pk)
        AccessRequest.objects.filter(pk=approved.pk).update(copy_failed_at=long_ago)
        retry_failed_copies()
    approved.refresh_from_db()
    assert approved.state == AccessRequest.State.FAILED
    assert approved.copy_attempts == COPY_ATTEMPTS
    assert retry_failed_copies() == []  # tried enough: the clerk's button is left


def test_a_copy_whose_worker_stopped_is_marked_failed_and_tried_again(
    approved, django_capture_on_commit_callbacks
):
    approved.refresh_from_db()
    AccessRequest.objects.filter(pk=approved.pk).update(copy_task_id="task-cut-off")
    assert retry_failed_copies(stopped_task_ids=["task-cut-off"]) == []
    approved.refresh_from_db()
    assert approved.state == AccessRequest.State.FAILED
    assert approved.copy_failure == AccessRequest.CopyFailure.WORKER_STOPPED
    assert approved.copy_attempts == 1
