"""Keeping check reports: every run of the checks that decides something is stored, audited."""

from django.db import transaction

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event

from .checks import Run
from .models import CheckReport, CheckResult


def keep_report(
    *, actor, stage: str, subject_type: str, subject_id, subject_repr: str, run: Run
) -> CheckReport:
    """Store ``run`` as a report on its subject, with an audit event naming the failed checks."""
    with transaction.atomic():
        report = CheckReport.objects.create(
            stage=stage,
            subject_type=subject_type,
            subject_id=str(subject_id),
            subject_repr=subject_repr[:300],
            created_by=actor if getattr(actor, "pk", None) else None,
            passed=run.passed,
            items=run.items,
            files=run.files,
            bytes=run.bytes,
            seconds=run.seconds,
        )
        CheckResult.objects.bulk_create(
            CheckResult(
                report=report,
                position=n,
                check_id=o.check_id,
                property=o.property,
                name=o.name[:200],
                verdict=o.verdict,
                summary=o.summary[:500],
                evidence=o.evidence,
            )
            for n, o in enumerate(run.outcomes, start=1)
        )
        record_event(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=report,
            detail={
                "stage": stage,
                "subject": f"{subject_type}:{subject_id}",
                "passed": run.passed,
                "failed": run.failed(),
            },
        )
    return report
