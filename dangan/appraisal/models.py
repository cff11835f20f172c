"""Appraisal (鉴定): holds on expiry, appraisal batches and their decisions, destruction lists
(销毁清单) with their approval, tombstones of destroyed records, and transfers (移交).

Everything here is kept for good: lists, approvals and tombstones are the archive's proof that a
destruction was lawful, so every foreign key to a record or a user PROTECTs.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dangan.catalogue.models import Retention


class Hold(models.Model):
    """保留: a dispute, an audit or a legal case that stops a record's expiry while it lasts.

    A held record is never due for appraisal and never offered for destruction. A hold ends
    when it is released, or on its ``until`` day.
    """

    class Kind(models.TextChoices):
        DISPUTE = "dispute", _("Dispute")
        AUDIT = "audit", _("Audit")
        LITIGATION = "litigation", _("Legal case")
        OTHER = "other", _("Other")

    record = models.ForeignKey(
        "catalogue.Record", verbose_name=_("record"), on_delete=models.PROTECT, related_name="holds"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=500)
    until = models.DateField(_("held until"), null=True, blank=True)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("placed by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
    )
    placed_at = models.DateTimeField(_("placed"), auto_now_add=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("released by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    released_at = models.DateTimeField(_("released"), null=True, blank=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        ordering = ["-placed_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.reason[:40]}"


class Batch(models.Model):
    """鉴定批次: records put before an appraisal committee at one time.

    A retention batch (到期鉴定) decides, item by item, to destroy, keep longer or keep for good;
    an opening batch (开放鉴定) decides what becomes open after the closed period.
    """

    class Kind(models.TextChoices):
        RETENTION = "retention", _("Expiry appraisal")
        OPENING = "opening", _("Open-access appraisal")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        #: An opening batch closed while the county's approval steps (开放审核) are taken.
        AWAITING = "awaiting", _("Awaiting approval")
        CLOSED = "closed", _("Closed")
        #: An opening batch whose approval was refused: nothing was opened.
        REJECTED = "rejected", _("Not approved")

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("committee"), related_name="appraisal_batches"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("appraisal batch")
        verbose_name_plural = _("appraisal batches")
        ordering = ["-opened_at", "-id"]

    def __str__(self):
        return self.title


class Choice(models.TextChoices):
    """What a committee member may decide for one item."""

    DESTROY = "destroy", _("Destroy")
    EXTEND = "extend", _("Keep longer")
    PERMANENT = "permanent", _("Keep permanently")
    OPEN = "open", _("Open")
    CONTROLLED = "controlled", _("Controlled")
    DELAYED = "delayed", _("Delayed opening")


RETENTION_CHOICES = (Choice.DESTROY, Choice.EXTEND, Choice.PERMANENT)
OPENING_CHOICES = (Choice.OPEN, Choice.CONTROLLED, Choice.DELAYED)
#: Extension periods (years), the retention schedule's own.
EXTENSIONS = [(r.value, r.label) for r in Retention if r != Retention.PERMANENT]


class BatchItem(models.Model):
    """One record of a batch, and, once the batch is closed, the committee's outcome for it."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="items")
    record = models.ForeignKey(
        "catalogue.Record", on_delete=models.PROTECT, related_name="appraisal_items"
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=Choice.choices, blank=True)
    new_retention = models.CharField(_("new period"), max_length=4, choices=EXTENSIONS, blank=True)
    #: Kept until this day after an extension; nothing while not extended.
    kept_until = models.DateField(_("kept until"), null=True, blank=True)

    class Meta:
        verbose_name = _("batch item")
        verbose_name_plural = _("batch items")
        ordering = ["batch", "id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "record"], name="appraisal_item_unique")
        ]

    def __str__(self):
        return f"{self.batch_id}/{self.record_id}"


class Decision(models.Model):
    """One committee member's decision on one item, with the reason."""

    item = models.ForeignKey(BatchItem, on_delete=models.PROTECT, related_name="decisions")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(_("decision"), max_length=12, choices=Choice.choices)
    new_retention = models.CharField(_("new period"), max_length=4, choices=EXTENSIONS, blank=True)
    reason = models.CharField(_("reason"), max_length=500)
    decided_at = models.DateTimeField(_("decided"), auto_now=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.UniqueConstraint(fields=["item", "member"], name="appraisal_decision_unique")
        ]

    def __str__(self):
        return f"{self.member_id}: {self.choice}"


class DestructionList(models.Model):
    """销毁清单: the records a closed batch decided to destroy, for the designated head to approve
    or, when the county set approval steps for destruction, for each step's role in turn
    (``accounts.approvals``; then ``approver`` is empty).

    Proposal and approval are acts of different people; the records are destroyed in the
    transaction of the (last) approval, and the list with its approval is kept for good.
    """

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Awaiting approval")
        DESTROYED = "destroyed", _("Approved and destroyed")
        REJECTED = "rejected", _("Rejected")

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="destruction_lists")
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed"), auto_now_add=True)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("designated head"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="destruction_lists_to_approve",
    )
    decided_at = models.DateTimeField(_("approved or rejected"), null=True, blank=True)
    note = models.CharField(_("approval note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("destruction list")
        verbose_name_plural = _("destruction lists")
        ordering = ["-proposed_at", "-id"]

    def __str__(self):
        return f"XH-{self.proposed_at:%Y}-{self.pk:04d}"


class DestructionItem(models.Model):
    """One line of a destruction list, written when the list is proposed."""

    destruction_list = models.ForeignKey(
        DestructionList, on_delete=models.PROTECT, related_name="items"
    )
    record = models.ForeignKey(
        "catalogue.Record", on_delete=models.PROTECT, related_name="destruction_items"
    )
    archival_code = models.CharField(_("archival code"), max_length=80)
    title = models.CharField(_("title"), max_length=500)
    year = models.PositiveSmallIntegerField(_("year"))
    retention = models.CharField(_("retention"), max_length=4, choices=Retention.choices)
    reasons = models.TextField(_("reasons"))

    class Meta:
        ordering = ["destruction_list", "archival_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["destruction_list", "record"], name="destruction_item_unique"
            )
        ]

    def __str__(self):
        return f"{self.archival_code} {self.title}"


class Tombstone(models.Model):
    """墓碑: what a destroyed record was, when it was destroyed and by whose decision.

    The record row stays in the catalogue (state ``destroyed``, personal metadata scrubbed, no
    content); this row says what it was.
    """

    record = models.OneToOneField(
        "catalogue.Record", on_delete=models.PROTECT, related_name="tombstone"
    )
    destruction_list = models.ForeignKey(
        DestructionList, on_delete=models.PROTECT, related_name="tombstones"
    )
    archival_code = models.CharField(_("archival code"), max_length=80)
    title = models.CharField(_("title"), max_length=500)
    year = models.PositiveSmallIntegerField(_("year"))
    category = models.CharField(_("category"), max_length=120)
    fonds = models.CharField(_("fonds"), max_length=16)
    retention = models.CharField(_("retention"), max_length=4, choices=Retention.choices)
    destroyed_at = models.DateTimeField(_("destroyed"))
    decided_by = models.CharField(_("decided by"), max_length=500)
    approved_by = models.CharField(_("approved by"), max_length=150)
    pages_removed = models.PositiveIntegerField(_("pages removed"), default=0)
    bytes_removed = models.PositiveBigIntegerField(_("bytes removed"), default=0)

    class Meta:
        verbose_name = _("tombstone")
        verbose_name_plural = _("tombstones")
        ordering = ["-destroyed_at", "archival_code"]

    def __str__(self):
        return f"{self.archival_code} {self.title}"


class Transfer(models.Model):
    """移交: one transfer package written for the county archives, or received from another
    archive, with the four-property report of the transfer stage."""

    class Direction(models.TextChoices):
        EXPORT = "export", _("Exported")
        IMPORT = "import", _("Imported")

    uid = models.UUIDField(_("package"), default=uuid.uuid4)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    fonds = models.CharField(_("fonds"), max_length=16, blank=True)
    category = models.CharField(_("category"), max_length=16)
    year = models.PositiveSmallIntegerField(_("year"))
    items = models.PositiveIntegerField(_("items"), default=0)
    files = models.PositiveIntegerField(_("files"), default=0)
    bytes = models.PositiveBigIntegerField(_("bytes"), default=0)
    path = models.CharField(_("file"), max_length=500)
    digest = models.CharField(_("SHA-256 of the tag manifest"), max_length=64)
    passed = models.BooleanField(_("checks passed"), default=False)
    report = models.ForeignKey(
        "integrity.CheckReport", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.category}·{self.year} {self.uid}"
