"""Hand-over lists: drafting, sending (frozen, checked), answering per item, correcting and
resending, and acceptance filing records with their persons and pages in one step."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dangan.audit.models import AuditEvent
from dangan.catalogue.models import Record
from dangan.content.models import Page
from dangan.intake import handover as services
from dangan.intake import selectors
from dangan.intake.models import HandoverList, ItemDecision
from dangan.integrity.models import Verdict

pytestmark = pytest.mark.usefixtures("content_dir")


@pytest.fixture
def draft(town_clerk, fonds, category, scan, id_number):
    handover = services.create_list(
        actor=town_clerk, fonds=fonds, category=category, title="2024年托管档案移交"
    )
    for n, name in enumerate(["张三", "李四", "王五"], start=1):
        services.add_item(
            actor=town_clerk,
            handover=handover,
            values={
                "date": f"2024-03-0{n}",
                "responsible": "城关镇社保所",
                "legacy_number": f"T-{n}",
            },
            persons=[{"id_number": id_number(), "name": name}],
            files=[(f"{n}-1.jpg", io.BytesIO(scan(n))), (f"{n}-2.jpg", io.BytesIO(scan(n + 50)))],
        )
    return handover


def _answer(handover, **verdicts):
    items = {i.position: i.pk for i in handover.items.all()}
    return {items[int(k[1:])]: v for k, v in verdicts.items()}


def test_sent_list_is_checked_and_frozen(draft, town_clerk, scan):
    report = services.submit(actor=town_clerk, handover=draft)
    draft.refresh_from_db()
    assert draft.state == HandoverList.State.SENT
    assert (draft.declared_items, report.items, report.files) == (3, 3, 6)
    verdicts = {r.check_id: r.verdict for r in report.results.all()}
    assert report.passed, verdicts
    assert verdicts["YJ-1-1"] == verdicts["YJ-2-1"] == verdicts["YJ-2-4"] == Verdict.PASS
    virus = report.results.get(check_id="YJ-4-1")
    assert virus.verdict == Verdict.SKIPPED and "ClamAV" in virus.summary
    with pytest.raises(ValidationError):
        services.add_item(
            actor=town_clerk,
            handover=draft,
            values={"title": "x"},
            files=[("a.jpg", io.BytesIO(scan()))],
        )


def test_item_with_a_bad_id_number_is_refused(town_clerk, fonds, category):
    handover = services.create_list(actor=town_clerk, fonds=fonds, category=category, title="x")
    with pytest.raises(ValidationError):
        services.add_item(
            actor=town_clerk,
            handover=handover,
            values={"date": "2024-01-01", "responsible": "x"},
            persons=[{"id_number": "320925198503011234", "name": "张三"}],
        )


def test_return_correct_resend_accept_files_all_three(draft, town_clerk, archivist):
    services.submit(actor=town_clerk, handover=draft)
    records = services.answer(
        actor=archivist,
        handover=draft,
        answers=_answer(
            draft, n1=("accepted", ""), n2=("returned", "第2页缺失"), n3=("accepted", "")
        ),
    )
    assert [r.state for r in records] == ["filed", "filed"]
    assert all(r.archival_code for r in records)
    assert Page.objects.filter(record__in=records).count() == 4
    second = services.new_version(actor=town_clerk, handover=draft)
    assert (second.version, second.previous, second.items.count()) == (2, draft, 1)
    item = second.items.get()
    assert item.corrects.decision.reason == "第2页缺失"
    services.update_item(
        actor=town_clerk,
        item=item,
        values={**item.values, "remarks": "补齐"},
        persons=item.persons,
    )
    services.submit(actor=town_clerk, handover=second)
    [record] = services.answer(
        actor=archivist, handover=second, answers={item.pk: ("accepted", "")}
    )
    assert record.unit == draft.unit and record.remarks == "补齐"
    assert Record.objects.filter(legacy_number__in=["T-1", "T-2", "T-3"]).count() == 3
    trail = AuditEvent.objects.filter(action="import", object_id=str(record.pk)).get()
    assert trail.detail["handed_over_by"] == town_clerk.username
    assert trail.detail["accepted_by"] == archivist.username
    history = selectors.handover_history(second)
    assert history == [draft, second]


def test_returning_needs_a_reason_and_every_item_an_answer(draft, town_clerk, archivist):
    services.submit(actor=town_clerk, handover=draft)
    with pytest.raises(ValidationError):
        services.answer(
            actor=archivist, handover=draft, answers=_answer(draft, n1=("accepted", ""))
        )
    with pytest.raises(ValidationError):
        services.answer(
            actor=archivist,
            handover=draft,
            answers=_answer(draft, n1=("accepted", ""), n2=("returned", " "), n3=("accepted", "")),
        )
    assert not ItemDecision.objects.exists() and not Record.objects.exists()


def test_clerk_sees_own_unit_archivist_sees_sent_lists_only(
    draft, town_clerk, archivist, make_user, fonds, category
):
    from dangan.accounts.models import Role, Unit

    other = Unit.objects.create(code="T02", name="其他镇", kind=Unit.Kind.TOWN)
    stranger = make_user(role=Role.TOWN_CLERK, unit=other, grants=())
    reader = make_user(role=Role.READING_CLERK)
    assert list(selectors.handover_lists_for(town_clerk)) == [draft]
    assert list(selectors.handover_lists_for(stranger)) == []
    assert list(selectors.handover_lists_for(archivist)) == []  # a draft is not the archive's
    assert list(selectors.handover_lists_for(reader)) == []
    services.submit(actor=town_clerk, handover=draft)
    assert list(selectors.handover_lists_for(archivist)) == [draft]
    with pytest.raises(PermissionDenied):
        services.answer(actor=town_clerk, handover=draft, answers={})
    with pytest.raises(PermissionDenied):
        services.new_version(actor=stranger, handover=draft)


def test_the_archivist_sees_where_the_classifier_would_put_each_item(
    draft, town_clerk, archivist, logged_in, scan, settings, tmp_path
):
    from django.urls import reverse

    settings.DATA_DIR = tmp_path  # the classifier learns from the scheme (no records yet)
    services.add_item(
        actor=town_clerk,
        handover=draft,
        values={
            "title": "关于印发文书档案管理办法的通知",
            "date": "2024-03-09",
            "responsible": "城关镇人民政府",
        },
        files=[("4-1.jpg", io.BytesIO(scan(9)))],
    )
    services.submit(actor=town_clerk, handover=draft)
    page = logged_in(archivist).get(reverse("intake:handover-detail", args=[draft.pk]))
    text = page.content.decode()
    assert 'class="proposal warning" data-proposal="WS"' in text
    assert text.count('class="proposal warning"') == 1  # the person files stay where they are
