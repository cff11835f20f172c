from django.urls import path, re_path

from . import ledger_views

app_name = "integrity"

urlpatterns = [
    path("", ledger_views.verify_runs, name="verify-runs"),
    re_path(
        r"^days/(?P<day>\d{4}-\d{2}-\d{2})\.(?P<fmt>json|pdf)$",
        ledger_views.day_root,
        name="day-root",
    ),
    path("reports/<int:pk>/", ledger_views.stage_report, name="stage-report"),
    path("checks/<slug:what>/start/", ledger_views.start_check, name="check-start"),
]
