from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """One import of an old register (台账) into the catalogue: the file, its mapping, its outcome.

    A job is written for every import that changes the catalogue (command line or web) and for
    every register uploaded on the web. Rows are committed in batches; ``rows_done`` says how far
    a run got, and because re-importing a row that is already in changes nothing, running the
    same file again after an interruption continues where it stopped. A large register imported
    on the web runs in the worker (``background``, a ``jobs.Job`` with the progress); after each
    batch it keeps a ``checkpoint`` (the last row committed and what the committed batches did),
    from which a run cut off with its worker goes on, with the report of the whole file.
    """

    class State(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        QUEUED = "queued", _("Waiting for the worker")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Stopped")

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    original_name = models.CharField(_("file name"), max_length=255)
    stored_file = models.CharField(
        _("stored file"),
        max_length=500,
        blank=True,
        help_text=_("Path of the uploaded copy under DATA_DIR."),
    )
    fonds = models.ForeignKey("catalogue.Fonds", verbose_name=_("fonds"), on_delete=models.PROTECT)
    category = models.ForeignKey(
        "catalogue.Category", verbose_name=_("category"), on_delete=models.PROTECT
    )
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.UPLOADED
    )
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    #: The background job running the import (web imports above DANGAN_IMPORT_BACKGROUND_ROWS).
    background = models.ForeignKey(
        "jobs.Job",
        verbose_name=_("background job"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    checkpoint = models.JSONField(
        _("checkpoint"),
        default=dict,
        blank=True,
        help_text=_("Where a background import got to: it goes on from there after a stop."),
    )
    report = models.JSONField(
        _("outcome"),
        default=dict,
        blank=True,
        help_text=_("Summary of the last run (dry or real)."),
    )

    class Meta:
        verbose_name = _("register import")
        verbose_name_plural = _("register imports")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.original_name} → {self.category.code}"


# --- Hand-over lists (移交清单) ---------------------------------------------------------------
class HandoverList(models.Model):
    """移交清单: what a business unit or town hands over to the archive, item by item.

    A list is drafted by a clerk of its unit and sent; from then on it never changes. The
    archive answers each item (accepted, or returned with a reason). Returned items are
    corrected in a new version of the list (``previous`` points back), so the whole history
    stays readable on both sides.
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        ANSWERED = "answered", _("Answered")

    uid = models.UUIDField(_("identifier"), unique=True, editable=False)
    unit = models.ForeignKey(
        "accounts.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="handovers"
    )
    fonds = models.ForeignKey("catalogue.Fonds", verbose_name=_("fonds"), on_delete=models.PROTECT)
    category = models.ForeignKey(
        "catalogue.Category", verbose_name=_("category"), on_delete=models.PROTECT
    )
    title = models.CharField(_("title"), max_length=200)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    version = models.PositiveIntegerField(_("version"), default=1)
    previous = models.ForeignKey(
        "self",
        verbose_name=_("previous version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next_versions",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("drawn up by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: What the sender declared: checked against what arrived (DA/T 70 integrity).
    declared_items = models.PositiveIntegerField(_("items declared"), null=True, blank=True)
    declared_bytes = models.PositiveBigIntegerField(_("bytes declared"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("hand-over list")
        verbose_name_plural = _("hand-over lists")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.title} (v{self.version})"


class HandoverItem(models.Model):
    """One item (件) of a hand-over list: its description, the persons it concerns, its files."""

    handover = models.ForeignKey(
        HandoverList,
        verbose_name=_("hand-over list"),
        on_delete=models.CASCADE,
        related_name="items",
    )
    position = models.PositiveIntegerField(_("no."))
    #: Core record fields as sent (title, date, responsible, legacy_number, …).
    values = models.JSONField(_("description"), default=dict)
    #: The category's own fields (``catalogue.FieldDefinition``).
    metadata = models.JSONField(_("category fields"), default=dict, blank=True)
    #: ``[{"id_number": …, "name": …}]``.
    persons = models.JSONField(_("persons"), default=list, blank=True)
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
    )
    record = models.ForeignKey(
        "catalogue.Record",
        verbose_name=_("filed as"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("hand-over item")
        verbose_name_plural = _("hand-over items")
        ordering = ["handover", "position"]
        constraints = [
            models.UniqueConstraint(fields=["handover", "position"], name="handover_item_position")
        ]

    def __str__(self):
        return f"{self.position}. {self.values.get('title', '')}"

    @property
    def title(self):
        return self.values.get("title", "")


class ItemFile(models.Model):
    """A file of an item, staged in the content store before the archive accepts the item.

    ``declared_sha256`` is the digest the sender stated; the receipt check reads the stored
    bytes again and compares.
    """

    item = models.ForeignKey(HandoverItem, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveIntegerField(_("page"))
    filename = models.CharField(_("file name"), max_length=255)
    blob = models.ForeignKey(
        "content.Blob", verbose_name=_("content"), on_delete=models.PROTECT, related_name="+"
    )
    declared_sha256 = models.CharField(_("SHA-256 sent"), max_length=64)
    declared_size = models.PositiveBigIntegerField(_("size sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("item file")
        verbose_name_plural = _("item files")
        ordering = ["item", "position"]

    def __str__(self):
        return self.filename


class ItemDecision(models.Model):
    """The archive's answer to one item: accepted (filed), or returned with a reason."""

    class Verdict(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        RETURNED = "returned", _("Returned")

    item = models.OneToOneField(HandoverItem, on_delete=models.CASCADE, related_name="decision")
    verdict = models.CharField(_("answer"), max_length=10, choices=Verdict.choices)
    reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL
    )
    decided_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("answer to an item")
        verbose_name_plural = _("answers to items")

    def __str__(self):
        return self.get_verdict_display()


class SigningKey(models.Model):
    """A unit's public key that signs its offline packages (SM2; Ed25519 for keys made before),
    kept by the archive."""

    unit = models.ForeignKey(
        "accounts.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    algorithm = models.CharField(_("algorithm"), max_length=16, default="sm2")
    public_key = models.CharField(_("public key"), max_length=200)
    fingerprint = models.CharField(_("fingerprint"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")

    def __str__(self):
        return f"{self.unit} {self.fingerprint[:16]}"


class Upload(models.Model):
    """A resumable upload (tus 1.0 core): bytes arrive in chunks, each checked, and a broken
    line resumes at ``offset``. Complete, the file is streamed into the content store."""

    uid = models.UUIDField(unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(_("file name"), max_length=255)
    length = models.PositiveBigIntegerField(_("length"))
    offset = models.PositiveBigIntegerField(_("received"), default=0)
    sha256 = models.CharField(_("SHA-256 sent"), max_length=64)
    blob = models.ForeignKey(
        "content.Blob", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("resumable upload")
        verbose_name_plural = _("resumable uploads")

    def __str__(self):
        return f"{self.filename} {self.offset}/{self.length}"


# --- Business systems that file by themselves (归档接口) ------------------------------------------
class Sender(models.Model):
    """A business system (业务系统) registered by the system administrator to file records
    through ``POST /api/v1/filings/`` with its key. The key is shown once, when it is made; only
    its first characters (to find it) and its SHA-256 are kept."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    unit = models.ForeignKey(
        "accounts.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    key_prefix = models.CharField(_("key begins"), max_length=16, unique=True)
    key_hash = models.CharField(_("key digest"), max_length=64)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    key_changed_at = models.DateTimeField(_("key made"), auto_now_add=True)

    class Meta:
        verbose_name = _("sending system")
        verbose_name_plural = _("sending systems")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Filing(models.Model):
    """预归档: one record a business system posted, waiting for the archivist in the pre-archive
    queue, then accepted (filed as ``record``) or returned with a reason. Known by the sender's
    own id: the same id again is answered with this filing (or refused when its content
    differs), never a second one."""

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        ACCEPTED = "accepted", _("Accepted")
        RETURNED = "returned", _("Returned")

    sender = models.ForeignKey(
        Sender, verbose_name=_("sending system"), on_delete=models.PROTECT, related_name="filings"
    )
    external_id = models.CharField(_("sender's id"), max_length=100)
    digest = models.CharField(_("content digest"), max_length=71)
    fonds = models.ForeignKey("catalogue.Fonds", verbose_name=_("fonds"), on_delete=models.PROTECT)
    category = models.ForeignKey(
        "catalogue.Category", verbose_name=_("category"), on_delete=models.PROTECT
    )
    values = models.JSONField(_("description"), default=dict)
    metadata = models.JSONField(_("category fields"), default=dict, blank=True)
    persons = models.JSONField(_("persons"), default=list, blank=True)
    #: 办理过程: ``[{"step", "who", "when", "what"}, …]`` as the business system recorded it.
    process = models.JSONField(_("how the business was handled"), default=list, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.WAITING
    )
    reason = models.TextField(_("reason"), blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    decided_at = models.DateTimeField(_("answered"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    record = models.ForeignKey(
        "catalogue.Record",
        verbose_name=_("record"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("filing by a business system")
        verbose_name_plural = _("filings by business systems")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "external_id"], name="intake_filing_sender_id_unique"
            )
        ]
        indexes = [models.Index(fields=["state", "received_at"])]

    def __str__(self):
        return f"{self.sender} · {self.external_id}"

    @property
    def title(self) -> str:
        return str(self.values.get("title", ""))


class FilingFile(models.Model):
    """A file of a filing, kept in the content store as a blob linked to no record until the
    filing is accepted."""

    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveIntegerField(_("page"))
    filename = models.CharField(_("file name"), max_length=255)
    blob = models.ForeignKey("content.Blob", on_delete=models.PROTECT, related_name="+")
    declared_sha256 = models.CharField(_("SHA-256 sent"), max_length=64, blank=True)

    class Meta:
        ordering = ["filing", "position"]
        constraints = [
            models.UniqueConstraint(fields=["filing", "position"], name="filing_file_position")
        ]

    def __str__(self):
        return f"{self.filing_id}/{self.position} {self.filename}"


class SenderDay(models.Model):
    """One day of one sending system as the daily reconciliation (对账) kept it: what it sent
    that day, what was accepted and returned that day, and what was waiting at its end."""

    sender = models.ForeignKey(Sender, on_delete=models.CASCADE, related_name="days")
    day = models.DateField(_("day"))
    sent = models.PositiveIntegerField(_("sent"), default=0)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    returned = models.PositiveIntegerField(_("returned"), default=0)
    waiting = models.PositiveIntegerField(_("waiting"), default=0)
    made_at = models.DateTimeField(_("made"), auto_now=True)

    class Meta:
        verbose_name = _("daily reconciliation")
        verbose_name_plural = _("daily reconciliations")
        ordering = ["-day", "sender"]
        constraints = [models.UniqueConstraint(fields=["sender", "day"], name="sender_day_unique")]

    def __str__(self):
        return f"{self.sender_id} {self.day}"
