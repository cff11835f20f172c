"""The security auditor's pages: everyone's trail (the other administrators' too), filters,
export; nobody else may read them."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from dangan.accounts import services
from dangan.accounts.models import Role
from dangan.audit.models import AuditEvent
from dangan.jobs.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(make_user):
    return make_user(role=Role.AUDITOR, grants=())


@pytest.fixture
def trail(make_user, make_record, archivist):
    """Some history: a security administrator gives a role; an archivist files a record."""
    security = make_user(role=Role.SECURITY_ADMIN, grants=())
    clerk = make_user(role=Role.READING_CLERK, grants=())
    services.set_role(actor=security, user=clerk, role=Role.LEADER)
    make_record(actor=archivist, title="[审计测试档案]")
    return {"security": security, "archivist": archivist}


def test_the_auditor_reads_everyones_entries_with_filters(client, auditor, trail):
    client.force_login(auditor)
    page = client.get(reverse("audit:trail")).content.decode()
    assert trail["security"].username in page and trail["archivist"].username in page

    only = client.get(reverse("audit:trail"), {"who": trail["security"].username})
    assert {e.actor_name for e in only.context["events"]} == {trail["security"].username}
    created = client.get(reverse("audit:trail"), {"action": "create", "obj": "审计测试"})
    assert [e.object_repr for e in created.context["events"]][0].endswith("[审计测试档案]")
    today = datetime.date.today()
    tomorrow = today + datetime.timedelta(days=2)
    later = client.get(reverse("audit:trail"), {"since": tomorrow.isoformat()})
    assert list(later.context["events"]) == []
    # searching the trail is itself on the trail
    assert AuditEvent.objects.filter(actor=auditor, action="search").exists()


@pytest.mark.parametrize(
    "role", [Role.ARCHIVIST, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.LEADER]
)
def test_nobody_but_the_auditor_reads_the_trail(client, make_user, trail, role):
    client.force_login(make_user(role=role))
    for name in ("audit:trail", "audit:verify"):
        assert client.get(reverse(name)).status_code == 403
    for name in ("audit:export-csv", "audit:export-xlsx"):
        assert client.post(reverse(name)).status_code == 403
    assert not Job.objects.exists()
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code in (302, 403)


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get(reverse("audit:trail"))["Location"].startswith("/login/")


def test_the_trail_exports_as_csv_and_excel_by_a_background_job_and_is_audited(
    client, auditor, trail, make_user, exported
):
    client.force_login(auditor)
    page = client.get(reverse("audit:trail"), {"action": "update"}).content.decode()
    # the export buttons carry the filters on the page
    assert 'name="action" value="update"' in page and 'id="trail-export"' in page
    assert client.get(reverse("audit:export-csv")).status_code == 405
    answer = client.post(reverse("audit:export-csv"), {"action": "update"})
    job = Job.objects.get(kind="audit.trail_csv")
    assert answer["Location"] == job.get_absolute_url() and job.owner == auditor
    rows = list(csv.reader(io.StringIO(exported(client, answer).decode("utf-8-sig"))))
    assert len(rows) >= 2 and all(row[3] == "update" for row in rows[1:])
    # the rows are those the page lists under the same filter, newest first
    expected = list(
        AuditEvent.objects.filter(action="update", pk__lt=int(rows[1][0]) + 1)
        .order_by("-id")
        .values_list("id", flat=True)
    )
    assert [int(row[0]) for row in rows[1:]] == expected
    answer = client.post(reverse("audit:export-xlsx"), {"since": "2000-01-01"})
    sheet = load_workbook(io.BytesIO(exported(client, answer))).active
    assert sheet.max_row >= 3
    exports = AuditEvent.objects.filter(actor=auditor, action="export")
    assert {e.detail["format"] for e in exports} == {"csv", "xlsx"}
    assert {e.detail["rows"] for e in exports if e.detail["format"] == "csv"} == {len(rows) - 1}
    downloads = AuditEvent.objects.filter(actor=auditor, action="download", object_type="jobs.job")
    assert downloads.count() == 2
    # another auditor neither sees nor takes this auditor's file
    other = make_user(role=Role.AUDITOR, grants=())
    client.force_login(other)
    assert client.get(f"{job.get_absolute_url()}download/").status_code == 404


def test_a_bad_filter_exports_nothing(client, auditor, trail):
    client.force_login(auditor)
    answer = client.post(reverse("audit:export-csv"), {"since": "not a day"}, follow=True)
    assert answer.redirect_chain[-1][0] == reverse("audit:trail")
    assert not Job.objects.exists()


def test_the_verify_page_says_whether_the_chain_holds(client, auditor, trail):
    client.force_login(auditor)
    assert client.get(reverse("audit:verify")).context["count"] == 0
    AuditEvent.objects.filter(action="create").update(object_repr="changed behind our back")
    assert client.get(reverse("audit:verify")).context["count"] >= 1


def test_the_trail_pages_by_cursor_and_entries_written_meanwhile_shift_nothing(client, auditor):
    import re

    from dangan.audit.services import record_event
    from dangan.audit.views import PAGE_SIZE

    for n in range(PAGE_SIZE + 5):
        record_event(actor=None, action=AuditEvent.Action.READ, object_repr=f"[翻页{n}]")
    client.force_login(auditor)

    def link(page, rel):
        found = re.search(rf'rel="{rel}" href="\?([^"]+)"', page.content.decode())
        return found and found.group(1).replace("&amp;", "&")

    first = client.get(reverse("audit:trail"), {"obj": "翻页"})
    assert len(first.context["events"]) == PAGE_SIZE and link(first, "prev") is None
    for n in range(3):  # the trail grows while the auditor reads: an offset would repeat rows
        record_event(actor=None, action=AuditEvent.Action.READ, object_repr=f"[翻页新{n}]")
    second = client.get(f"{reverse('audit:trail')}?{link(first, 'next')}")
    shown = [e.object_repr for e in second.context["events"]]
    assert shown == [f"[翻页{n}]" for n in range(4, -1, -1)] and link(second, "next") is None
