"""What the API keeps of its own: the filings of business systems (归档接口)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Filing(models.Model):
    """One record filed by a business system through ``POST /api/v1/filings/``, known by the
    sender's own id: a second request with the same id is answered with the same record (or
    refused when its content differs), never a second record."""

    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("sending system"), on_delete=models.PROTECT
    )
    external_id = models.CharField(_("sender's id"), max_length=100)
    digest = models.CharField(_("content digest"), max_length=71)
    record = models.ForeignKey(
        "catalogue.Record", verbose_name=_("record"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("filed"), auto_now_add=True)

    class Meta:
        verbose_name = _("filing by a business system")
        verbose_name_plural = _("filings by business systems")
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "external_id"], name="filing_sender_id_unique"
            )
        ]

    def __str__(self):
        return f"{self.external_id} → {self.record_id}"
