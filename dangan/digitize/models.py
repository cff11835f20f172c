"""The digitization pipeline's state: scan batches and what became of each page."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ScanBatch(models.Model):
    """扫描批次: one folder tree of scans brought in at once (``dangan ingest-scans``)."""

    source = models.CharField(_("folder"), max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("read"), null=True, blank=True)
    report = models.JSONField(_("report"), default=dict, blank=True)

    class Meta:
        verbose_name = _("scan batch")
        verbose_name_plural = _("scan batches")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.pk}: {self.source}"


class PageProcessing(models.Model):
    """What the pipeline made of one original page: checks, OCR text with boxes, derivatives.

    ``state`` is the page's place in the pipeline. A worker claims a page by moving it from
    ``pending`` to ``running`` in one UPDATE, so two workers never do the same page; a page
    left ``running`` past its lease (a worker that died) is claimed again.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Being read")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    page = models.OneToOneField("content.Page", on_delete=models.CASCADE, related_name="processing")
    batch = models.ForeignKey(
        ScanBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="pages"
    )
    state = models.CharField(
        _("state"), max_length=8, choices=State.choices, default=State.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    engine = models.CharField(_("OCR engine"), max_length=20, blank=True)
    text = models.TextField(_("text"), blank=True)
    lines = models.JSONField(_("text with boxes"), default=dict, blank=True)
    confidence = models.FloatField(_("confidence"), null=True, blank=True)
    checks = models.JSONField(_("image checks"), default=dict, blank=True)
    suggestions = models.JSONField(_("suggested metadata"), default=dict, blank=True)
    searchable_pdf = models.ForeignKey(
        "content.Blob", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    thumbnail = models.ForeignKey(
        "content.Blob", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    preview = models.ForeignKey(
        "content.Blob", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("page processing")
        verbose_name_plural = _("page processing")
        #: Pages finished lately: the OCR rate on /metrics (dangan.ops.metrics).
        indexes = [models.Index(fields=["state", "updated_at"], name="page_state_updated")]

    def __str__(self):
        return f"{self.page_id}: {self.state}"
