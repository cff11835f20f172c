"""Approving a request does not make the approver wait for the copy: the worker makes it after
the approval commits, and until then the request says the copy is being prepared."""

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from dangan.access.models import AccessRequest, Certificate
from dangan.access.services import approve_request, deliver_copy, submit_request
from dangan.access.tasks import deliver_copy_task
from dangan.accounts.models import Role
from dangan.content.services import add_files

from .conftest import scan_png

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(settings, tmp_path, make_record, make_user, archivist):
    settings.CONTENT_DIR = tmp_path / "content"
    settings.CONTENT_FSYNC = False
    settings.DANGAN_COPIES_IN_BACKGROUND = True
    record = make_record(actor=archivist, openness="controlled")
    add_files(actor=archivist, record=record, files=[("p.png", scan_png())])
    clerk = make_user(role=Role.READING_CLERK)
    return submit_request(requester=clerk, record=record, reason="核对")


def test_the_approval_queues_the_copy_and_the_worker_delivers_it(
    waiting, archivist, logged_in, django_capture_on_commit_callbacks
):
    client = logged_in(archivist)
    with django_capture_on_commit_callbacks(execute=True):
        approve_request(actor=archivist, access_request=waiting)
    waiting.refresh_from_db()
    assert waiting.state == AccessRequest.State.APPROVED and waiting.certificate is None
    queued = DBTaskResult.objects.get(task_path="dangan.access.tasks.deliver_copy_task")
    assert queued.args_kwargs["args"] == [waiting.pk, archivist.pk]
    page = client.get(reverse("access:request-detail", args=[waiting.pk])).content.decode()
    assert 'class="being-prepared"' in page and 'http-equiv="refresh"' in page

    assert deliver_copy_task.call(*queued.args_kwargs["args"]) == AccessRequest.State.DELIVERED
    waiting.refresh_from_db()
    assert waiting.certificate.issued_by == archivist
    page = client.get(reverse("access:request-detail", args=[waiting.pk])).content.decode()
    assert waiting.certificate.number in page and "being-prepared" not in page
    assert "refresh" not in page


def test_a_copy_is_made_once_however_often_the_task_runs(waiting, archivist):
    approve_request(actor=archivist, access_request=waiting)  # queued: nothing made yet
    first = deliver_copy(request_id=waiting.pk, actor=archivist)
    again = deliver_copy(request_id=waiting.pk, actor=archivist)
    assert first.certificate_id == again.certificate_id is not None
    assert Certificate.objects.filter(request=waiting).count() == 1
