"""Reading check reports. Who may see a report is decided by whoever owns its subject (the
hand-over pages ask ``intake.selectors`` first); these functions only fetch."""

from django.db.models import QuerySet

from .models import CheckReport


def reports_for(subject_type: str, subject_id) -> QuerySet[CheckReport]:
    """The reports on one subject, newest first."""
    return CheckReport.objects.filter(subject_type=subject_type, subject_id=str(subject_id))


def latest_report(subject_type: str, subject_id) -> CheckReport | None:
    return reports_for(subject_type, subject_id).prefetch_related("results").first()
