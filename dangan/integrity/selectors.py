"""Reading check reports. Who may see a report is decided by whoever owns its subject (the
hand-over pages ask ``intake.selectors`` first); these functions only fetch."""

from django.db.models import QuerySet

from .models import CheckReport


def reports_for(subject_type: str, subject_id) -> QuerySet[CheckReport]:
    """The reports on one subject, newest first."""
    return CheckReport.objects.filter(subject_type=subject_type, subject_id=str(subject_id))


def latest_verdicts(subject_type: str, subject_ids) -> dict[str, bool]:
    """Subject id (as text) → whether its newest report passed, for a list of subjects in one
    query; a subject never checked is absent."""
    verdicts: dict[str, bool] = {}
    rows = (
        CheckReport.objects.filter(
            subject_type=subject_type, subject_id__in=[str(i) for i in subject_ids]
        )
        .order_by("subject_id", "-created_at", "-id")
        .values_list("subject_id", "passed")
    )
    for subject_id, passed in rows:
        verdicts.setdefault(subject_id, passed)
    return verdicts


def latest_report(subject_type: str, subject_id) -> CheckReport | None:
    return reports_for(subject_type, subject_id).prefetch_related("results").first()
