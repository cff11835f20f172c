"""What smart help keeps: proposed duplicates awaiting a person's decision, page fingerprints."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DuplicateProposal(models.Model):
    """疑似重复: two objects (persons, records or pages) that look like one, for a person to
    accept or reject. Nothing is joined on its own. ``a`` < ``b`` (database ids), so a pair has
    one row; a rejected pair keeps its row, and a later scan does not propose it again."""

    class Kind(models.TextChoices):
        PERSONS = "persons", _("Persons")
        RECORDS = "records", _("Records")
        PAGES = "pages", _("Pages")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    a = models.BigIntegerField()
    b = models.BigIntegerField()
    score = models.FloatField(_("score"))
    #: A short code of why (``id_typo``, ``name_variant`` …): ``reasons.describe`` words it.
    reason = models.CharField(_("reason"), max_length=40)
    state = models.CharField(
        _("state"), max_length=8, choices=State.choices, default=State.OPEN, db_index=True
    )
    found_at = models.DateTimeField(_("found"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("suspected duplicate")
        verbose_name_plural = _("suspected duplicates")
        ordering = ["kind", "-score", "a", "b"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "a", "b"], name="duplicate_pair_unique"),
            models.CheckConstraint(
                condition=models.Q(a__lt=models.F("b")), name="duplicate_a_lt_b"
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.a}~{self.b} ({self.score:.2f})"


class PageFingerprint(models.Model):
    """A perceptual hash of a page's image (a 16×16 difference hash, 256 bits as 64 hex digits):
    the same sheet scanned again, at another resolution or slightly lighter, gives nearly the
    same bits; ``blob`` is the bytes it was computed from, so a changed page is hashed anew."""

    page = models.OneToOneField(
        "content.Page", on_delete=models.CASCADE, related_name="fingerprint"
    )
    blob = models.ForeignKey("content.Blob", on_delete=models.CASCADE, related_name="+")
    #: Empty when the page has no image to compare (sound, video) or is (nearly) blank.
    dhash = models.CharField(max_length=64, blank=True)

    def __str__(self):
        return f"{self.page_id}: {self.dhash[:12]}"
