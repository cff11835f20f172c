"""The DA/T 70 check engine on submissions built in memory: each check names what it found."""

import hashlib
import io

import pytest

from dangan.audit.models import AuditEvent
from dangan.integrity.checks import FileEntry, ItemEntry, Submission, run_checks
from dangan.integrity.models import CheckReport
from dangan.integrity.services import keep_report

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 20000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
EXE = b"MZ" + b"\x00" * 9000


def _file(name, data, *, item=1, page=1, declared=None, size=None):
    return FileEntry(
        name=name,
        declared_sha256=declared or hashlib.sha256(data).hexdigest(),
        declared_size=size,
        open=lambda: io.BytesIO(data),
        item=item,
        page=page,
    )


def _verdicts(run):
    return {o.check_id: o for o in run.outcomes}


def test_a_clean_submission_passes_and_says_the_virus_scan_was_skipped(settings):
    files = [_file("1/1", JPEG), _file("1/2", JPEG + b"x", page=2), _file("2/1", JPEG, item=2)]
    run = run_checks(
        Submission(
            label="x",
            items=[ItemEntry(1, "a"), ItemEntry(2, "b")],
            files=files,
            declared_items=2,
            declared_bytes=3 * len(JPEG) + 1,
        )
    )
    assert run.passed, run.failed()
    outcomes = _verdicts(run)
    assert outcomes["YJ-1-3"].verdict == "skipped" and outcomes["YJ-1-2"].verdict == "skipped"
    if outcomes["YJ-4-1"].verdict == "skipped":
        assert "ClamAV" in outcomes["YJ-4-1"].summary


def test_each_problem_fails_its_own_check_naming_the_file_or_item():
    files = [
        _file("1/1", JPEG, declared="0" * 64),  # digest differs
        _file("1/3", PNG, page=3),  # page 2 missing; PNG is not a long-term format
        _file("2/1", EXE, item=2),  # a program
    ]
    run = run_checks(
        Submission(
            label="x",
            items=[ItemEntry(1, "a", metadata_errors=["date: required"]), ItemEntry(3, "c")],
            files=files,
            declared_items=3,
            declared_bytes=1,
            extra=["data/evil.sh"],
            missing=["data/items/0003/0001.jpg"],
        )
    )
    outcomes = _verdicts(run)
    assert outcomes["YJ-1-1"].evidence[0].startswith("1/1: SHA-256 sent 000")
    assert outcomes["YJ-2-1"].verdict == "fail"  # 3 declared, 2 arrived
    assert outcomes["YJ-2-2"].verdict == "fail"
    assert outcomes["YJ-2-3"].evidence == ["1. a: date: required"]
    assert any("pages: 1, 3" in line for line in outcomes["YJ-2-4"].evidence)
    assert any("Item numbers: 1, 3" in line for line in outcomes["YJ-2-4"].evidence)
    formats = outcomes["YJ-3-1"].evidence
    assert formats[0].startswith("1/3: PNG") and formats[1].startswith("2/1:")
    assert outcomes["YJ-2-5"].evidence == ["data/items/0003/0001.jpg"]
    assert outcomes["YJ-4-2"].evidence == ["data/evil.sh"]
    assert set(run.failed()) == {
        "YJ-1-1",
        "YJ-2-1",
        "YJ-2-2",
        "YJ-2-3",
        "YJ-2-4",
        "YJ-2-5",
        "YJ-3-1",
        "YJ-4-2",
    }


def test_allowed_formats_are_configuration(settings):
    settings.DANGAN_INTEGRITY_FORMATS = ["PNG"]
    run = run_checks(Submission(label="x", items=[ItemEntry(1, "a")], files=[_file("1/1", PNG)]))
    assert _verdicts(run)["YJ-3-1"].verdict == "pass"


@pytest.mark.django_db
def test_a_kept_report_has_every_result_and_an_audit_entry():
    run = run_checks(Submission(label="x", items=[ItemEntry(1, "a")], files=[_file("1/1", JPEG)]))
    report = keep_report(
        actor=None,
        stage="handover",
        subject_type="test.thing",
        subject_id=7,
        subject_repr="t",
        run=run,
    )
    assert CheckReport.objects.get(pk=report.pk).results.count() == len(run.outcomes)
    event = AuditEvent.objects.get(object_type="integrity.checkreport", object_id=str(report.pk))
    assert event.detail["passed"] is True and event.detail["subject"] == "test.thing:7"
