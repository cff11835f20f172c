from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .stores import blob_key


class Blob(models.Model):
    """Stored bytes (原文/数字副本的字节), known by their SHA-256; the same bytes are kept once.

    A row exists only for bytes that are safely in the store. The SM3 digest (GB/T 32905) is
    kept beside SHA-256 for the fixity checks the national standards ask for; it is empty for
    a moment after the bytes are stored, until ``services.ensure_sm3`` has computed it.
    """

    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    sm3 = models.CharField(_("SM3"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    mime = models.CharField(_("media type"), max_length=100)
    format_name = models.CharField(_("format"), max_length=40)
    format_version = models.CharField(_("format version"), max_length=20, blank=True)
    puid = models.CharField(
        _("PRONOM identifier"), max_length=20, blank=True, help_text=_("e.g. fmt/412 (Word)")
    )
    created_at = models.DateTimeField(_("stored"), auto_now_add=True)

    class Meta:
        verbose_name = _("blob")
        verbose_name_plural = _("blobs")

    def __str__(self):
        return f"{self.sha256[:12]}… ({self.format_label})"

    @property
    def key(self) -> str:
        return blob_key(self.sha256)

    @property
    def format_label(self) -> str:
        return f"{self.format_name} {self.format_version}".strip()

    @property
    def ledger_digest(self) -> str:
        return ledger_digest(self.sha256, self.sm3)


def ledger_digest(sha256: str, sm3: str = "") -> str:
    """The digests of a blob as its ledger entries carry them: ``sha256:<hex>``, and
    `` sm3:<hex>`` once SM3 is known."""
    return f"sha256:{sha256} sm3:{sm3}" if sm3 else f"sha256:{sha256}"


class Page(models.Model):
    """页: one file of a record's digital copy at its place in the record's page order.

    A page is one scanned image, or a whole PDF, OFD, sound or video file. Originals are what
    was scanned or received; derivatives (OCR text, searchable PDF, thumbnails) are made from
    them and point back with ``derived_from``.
    """

    class Role(models.TextChoices):
        ORIGINAL = "original", _("Original")
        DERIVATIVE = "derivative", _("Derivative")
        #: The long-term copy (PDF/A) of a born-digital original, kept beside it.
        RENDITION = "rendition", _("Rendition")

    record = models.ForeignKey(
        "catalogue.Record", verbose_name=_("record"), on_delete=models.PROTECT, related_name="pages"
    )
    blob = models.ForeignKey(
        Blob, verbose_name=_("content"), on_delete=models.PROTECT, related_name="pages"
    )
    position = models.IntegerField(_("page"))
    role = models.CharField(_("role"), max_length=12, choices=Role.choices, default=Role.ORIGINAL)
    derived_from = models.ForeignKey(
        "self",
        verbose_name=_("derived from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="derivatives",
    )
    filename = models.CharField(_("file name"), max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("page")
        verbose_name_plural = _("pages")
        ordering = ["record", "role", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "position"],
                condition=Q(role="original"),
                name="page_position_unique",
            ),
        ]

    def __str__(self):
        return f"{self.position}: {self.filename}"


class PreservationEvent(models.Model):
    """保存事件: something done to a kept file for its preservation, in the manner of a PREMIS
    event — what (``kind``), to which original (``page``), by which program and version
    (``agent``), when, with what outcome, and what it made (``result``: the rendition's bytes).

    A format migration of a born-digital document (Word, Excel, WPS … to PDF/A-2b by
    LibreOffice) writes one ``migration`` event when it succeeds, and one with the outcome
    ``failure`` and the reason when the converter cannot open the file.
    """

    class Kind(models.TextChoices):
        MIGRATION = "migration", _("Format migration")

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("Succeeded")
        FAILURE = "failure", _("Failed")

    page = models.ForeignKey(
        Page, verbose_name=_("original"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    agent = models.CharField(_("program"), max_length=100)
    source = models.ForeignKey(
        Blob, verbose_name=_("from"), on_delete=models.PROTECT, related_name="+"
    )
    result = models.ForeignKey(
        Blob,
        verbose_name=_("made"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    detail = models.TextField(_("detail"), blank=True)
    at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("preservation event")
        verbose_name_plural = _("preservation events")
        ordering = ["page", "at", "pk"]

    def __str__(self):
        return f"{self.kind} {self.outcome}: {self.page_id}"
