"""Kept reports of the four-property checks (四性检测, DA/T 70-2018)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Verdict(models.TextChoices):
    PASS = "pass", _("Passed")
    FAIL = "fail", _("Failed")
    SKIPPED = "skipped", _("Not checked")


class Property(models.TextChoices):
    """The four properties of DA/T 70, in the standard's order."""

    AUTHENTICITY = "authenticity", _("Authenticity")
    INTEGRITY = "integrity", _("Integrity")
    USABILITY = "usability", _("Usability")
    SECURITY = "security", _("Security")


class CheckReport(models.Model):
    """One run of the checks over one subject (a hand-over list, a package), kept for good.

    ``subject_type``/``subject_id`` name what was checked without this app knowing its model,
    so the same engine serves hand-over, filing and preservation.
    """

    class Stage(models.TextChoices):
        FILING = "filing", _("Filing")
        HANDOVER = "handover", _("Hand-over and receipt")
        PRESERVATION = "preservation", _("Long-term preservation")

    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    subject_type = models.CharField(_("what was checked"), max_length=64)
    subject_id = models.CharField(_("identifier"), max_length=64)
    subject_repr = models.CharField(_("subject"), max_length=300)
    created_at = models.DateTimeField(_("checked"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    passed = models.BooleanField(_("passed"))
    items = models.PositiveIntegerField(_("items"), default=0)
    files = models.PositiveIntegerField(_("files"), default=0)
    bytes = models.PositiveBigIntegerField(_("bytes"), default=0)
    seconds = models.FloatField(_("seconds"), default=0)

    class Meta:
        verbose_name = _("check report")
        verbose_name_plural = _("check reports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="report_subject")]

    def __str__(self):
        return f"{self.subject_repr} {self.created_at:%Y-%m-%d %H:%M}"


class CheckResult(models.Model):
    """One check of a report: its DA/T 70 id, the verdict and the evidence behind it."""

    report = models.ForeignKey(CheckReport, on_delete=models.CASCADE, related_name="results")
    position = models.PositiveIntegerField()
    check_id = models.CharField(_("check"), max_length=16)
    property = models.CharField(_("property"), max_length=16, choices=Property.choices)
    name = models.CharField(_("name"), max_length=200)
    verdict = models.CharField(_("verdict"), max_length=8, choices=Verdict.choices)
    summary = models.CharField(_("finding"), max_length=500)
    #: Lines naming each file or item that failed (or what was looked at).
    evidence = models.JSONField(_("evidence"), default=list, blank=True)

    class Meta:
        verbose_name = _("check result")
        verbose_name_plural = _("check results")
        ordering = ["report", "position"]

    def __str__(self):
        return f"{self.check_id} {self.verdict}"
