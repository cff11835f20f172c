from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    """A user's long work run in the background (exports, reports, copies being prepared), with
    its progress and a download link. Stands on the ground layer so that every app above can
    register its kinds of job (``registry.job_kind``) and start them (``services.start_job``)."""

    name = "dangan.jobs"
    label = "jobs"
    verbose_name = _("Background work")
