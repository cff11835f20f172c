"""利用: the use of records — reading-room visits, loans of paper files, access requests from
citizens, units and staff, and the certified copies (档案证明) the archive issues.

Every use of a record leaves a ``Use`` row: the statistics count use from these, by purpose,
instead of guessing it from the audit trail.
"""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Purpose(models.TextChoices):
    """利用目的, the purposes the annual statistical report counts use by."""

    PERSONAL = "personal", _("Personal rights and proof")
    WORK = "work", _("Work reference")
    RESEARCH = "research", _("Academic research")
    HISTORY = "history", _("Compiling history and chronicles")
    ECONOMY = "economy", _("Economic construction")
    EDUCATION = "education", _("Publicity and education")
    OTHER = "other", _("Other")


class Outcome(models.TextChoices):
    """利用效果: what the use achieved, as the reader or the clerk reports it afterwards."""

    SOLVED = "solved", _("Settled the question")
    PROOF = "proof", _("Served as proof")
    REFERENCE = "reference", _("Served as reference")
    NONE = "none", _("Did not help")


class Visit(models.Model):
    """查阅接待: one visitor received in the reading room, with what they came for."""

    visitor_name = models.CharField(_("visitor"), max_length=100)
    id_number = models.CharField(_("ID number"), max_length=18)
    visitor_unit = models.CharField(_("visitor's unit"), max_length=200, blank=True)
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices)
    remarks = models.CharField(_("remarks"), max_length=500, blank=True)
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    unit = models.ForeignKey(
        "accounts.Unit",
        verbose_name=_("reading room of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("reading-room visit")
        verbose_name_plural = _("reading-room visits")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d} {self.visitor_name}"

    @property
    def masked_id_number(self) -> str:
        from dangan.people.id_numbers import mask

        return mask(self.id_number)


class Use(models.Model):
    """利用登记: one record used once — consulted in the reading room, lent, or delivered."""

    class Channel(models.TextChoices):
        READING_ROOM = "reading", _("Reading room")
        LOAN = "loan", _("Loan")
        REQUEST = "request", _("Online request")

    record = models.ForeignKey(
        "catalogue.Record", verbose_name=_("record"), on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices)
    #: Blank until the clerk records it (``services.record_outcome``).
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="uses"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("use")
        verbose_name_plural = _("uses")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["at", "purpose"], name="access_use_at_purpose")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d} {self.record_id} {self.purpose}"


class Loan(models.Model):
    """借阅: a paper file lent out, due back on a date."""

    record = models.ForeignKey(
        "catalogue.Record", verbose_name=_("record"), on_delete=models.PROTECT, related_name="+"
    )
    borrower_name = models.CharField(_("borrower"), max_length=100)
    borrower_unit = models.CharField(_("borrower's unit"), max_length=200, blank=True)
    borrower_email = models.EmailField(_("borrower's e-mail"), blank=True)
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices)
    lent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lent by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    lent_at = models.DateTimeField(_("lent"), default=timezone.now)
    due_on = models.DateField(_("due"))
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)
    returned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("returned to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reminded_at = models.DateTimeField(_("last reminder"), null=True, blank=True)

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ["due_on", "id"]
        constraints = [
            # A paper file is in one place: lent to one borrower at a time.
            models.UniqueConstraint(
                fields=["record"],
                condition=models.Q(returned_at__isnull=True),
                name="access_one_open_loan_per_record",
            )
        ]

    def __str__(self):
        return f"{self.record_id} → {self.borrower_name}"

    @property
    def is_overdue(self) -> bool:
        return self.returned_at is None and self.due_on < timezone.localdate()

    def days_overdue(self, today: datetime.date | None = None) -> int:
        today = today or timezone.localdate()
        return max((today - self.due_on).days, 0) if self.returned_at is None else 0


class Certificate(models.Model):
    """档案证明: a certified copy the archive issued, that anyone can check at /verify/<code>/.

    ``code`` is the secret in the QR code (192 random bits): knowing it is what lets one see the
    masked summary. ``sha256`` is of the very PDF issued; an upload with other bytes is not it.
    ``signature`` is the archive's signature over ``signed_text()``: SM2 (hex r ‖ s), or, for
    certificates issued before SM2 signing, Ed25519 (base64); ``algorithm`` says which.
    """

    number = models.CharField(_("certificate number"), max_length=20, unique=True)
    code = models.CharField(_("verification code"), max_length=64, unique=True)
    record = models.ForeignKey(
        "catalogue.Record", verbose_name=_("record"), on_delete=models.PROTECT, related_name="+"
    )
    request = models.ForeignKey(
        "AccessRequest",
        verbose_name=_("request"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    issuer_name = models.CharField(_("issuer"), max_length=200)
    issued_at = models.DateTimeField(_("issued"))
    summary = models.JSONField(_("masked summary"), default=dict)
    blob = models.ForeignKey(
        "content.Blob", verbose_name=_("issued PDF"), on_delete=models.PROTECT, related_name="+"
    )
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    signature = models.CharField(_("signature"), max_length=200)
    algorithm = models.CharField(_("signature algorithm"), max_length=16, default="sm2")
    key_fingerprint = models.CharField(_("signing key"), max_length=64)
    #: A certificate issued in error is revoked, never deleted: ``/verify/`` then says since when
    #: and why it certifies nothing.
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revocation_reason = models.TextField(_("reason for the revocation"), blank=True)

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_at", "-id"]

    def __str__(self):
        return self.number

    def signed_text(self) -> bytes:
        """What the signature covers: number, digest of the PDF, issue time (UTC)."""
        issued = self.issued_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"dangan-certificate\n{self.number}\n{self.sha256}\n{issued}\n".encode()


class AccessRequest(models.Model):
    """利用申请: a request to have a copy of one record, from a citizen, a unit or staff.

    Open records are delivered at once; controlled ones wait for an archivist or a leader;
    secret ones are refused: they never go online.
    """

    class Source(models.TextChoices):
        CITIZEN = "citizen", _("Citizen")
        UNIT = "unit", _("Another unit")
        STAFF = "staff", _("Staff")

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        DELIVERED = "delivered", _("Delivered")
        REFUSED = "refused", _("Refused")
        #: Approved, but the worker could not make the copy: the reason is ``copy_failure``; the
        #: worker's sweep tries again (``services.retry_failed_copies``), a clerk may at once.
        FAILED = "failed", _("Copy failed")

    class CopyFailure(models.TextChoices):
        """Why the worker could not make an approved request's copy (shown to the clerk and
        to the requester in their language)."""

        PAGE_UNREADABLE = (
            "page_unreadable",
            _(
                "A page of the record cannot be read from the content store (missing or damaged). "
                "The system administrator has been alerted; the copy is made once it is restored."
            ),
        )
        NO_PAGES = "no_pages", _("The record has no page that can be copied any more.")
        WORKER_STOPPED = "worker_stopped", _("The worker stopped while making the copy.")
        ERROR = (
            "error",
            _("Making the copy stopped on an error; the administrator finds it in the log."),
        )

    number = models.CharField(_("request number"), max_length=20, unique=True)
    source = models.CharField(_("from"), max_length=8, choices=Source.choices)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        on_delete=models.PROTECT,
        related_name="access_requests",
    )
    requester_name = models.CharField(_("requester's name"), max_length=150)
    record = models.ForeignKey(
        "catalogue.Record", verbose_name=_("record"), on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices)
    reason = models.CharField(_("what it is needed for"), max_length=500, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.SUBMITTED, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.CharField(_("reasons"), max_length=500, blank=True)
    certificate = models.ForeignKey(
        Certificate,
        verbose_name=_("delivered copy"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("submitted"), default=timezone.now)
    #: How often the copy was tried (by the worker, its sweep or a clerk's retry).
    copy_attempts = models.PositiveSmallIntegerField(_("copy attempts"), default=0)
    copy_failure = models.CharField(
        _("why the copy failed"), max_length=20, choices=CopyFailure.choices, blank=True
    )
    copy_failed_at = models.DateTimeField(_("copy failed"), null=True, blank=True)
    #: The worker task making the copy, to tell when that task was cut off with its worker.
    copy_task_id = models.CharField(_("copy task"), max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.number

    @property
    def is_downloadable(self) -> bool:
        return self.state == self.State.DELIVERED and self.certificate_id is not None

    @property
    def approvals(self):
        """The approval steps taken, in order (``accounts.approvals``)."""
        from dangan.accounts.models import ApprovalFlow, ApprovalStep

        return ApprovalStep.objects.filter(kind=ApprovalFlow.Kind.COPY_REQUEST, subject_id=self.pk)


class Counter(models.Model):
    """The last number given per series and year (LY requests, ZM certificates), incremented
    inside the issuing transaction like the catalogue's ``CodeCounter``."""

    series = models.CharField(max_length=16, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.series} #{self.last}"
