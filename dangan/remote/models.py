"""异地查档、跨馆出证: a request for a person's files made at one desk and answered by the
archive that holds them, inside one installation (county to county) or between installations
(peer to peer, by signed messages).

A request keeps one number at both ends. Within one installation one row serves both ends
(``asking_county`` and ``holding_county`` are both set); between installations each end keeps
its own row, tied to the other by ``peer`` and the number.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Peer(models.Model):
    """对端: another Dangan installation this one exchanges requests with, and its SM2 key."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    base_url = models.URLField(_("address"), max_length=300)
    public_key = models.CharField(_("public key"), max_length=128)
    added_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("peer installation")
        verbose_name_plural = _("peer installations")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class RemoteRequest(models.Model):
    """异地查档申请: the files of one person (by ID number), asked for at one desk and answered
    by the archive that keeps them. The asking desk never sees the holder's catalogue: only the
    answer and the certificates delivered."""

    class State(models.TextChoices):
        SENT = "sent", _("Sent")
        RECEIVED = "received", _("Received by the holder")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")
        DELIVERED = "delivered", _("Delivered")

    number = models.CharField(_("request number"), max_length=60, unique=True)
    #: The other installation; empty when both ends are counties of this one.
    peer = models.ForeignKey(
        Peer, verbose_name=_("peer"), null=True, blank=True, on_delete=models.PROTECT
    )
    #: This installation asked (``asking_county``: the desk's county, empty outside counties).
    asked_here = models.BooleanField(default=False)
    asking_county = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    #: This installation holds the files (``holding_county``: which county, empty for all).
    held_here = models.BooleanField(default=False)
    holding_county = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    asking_name = models.CharField(_("asking desk"), max_length=200)
    holding_name = models.CharField(_("holding archive"), max_length=200)
    id_number = models.CharField(_("ID number"), max_length=18, db_index=True)
    purpose = models.CharField(_("purpose"), max_length=12)
    reason = models.CharField(_("what it is needed for"), max_length=500, blank=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requester_name = models.CharField(_("asked by"), max_length=150)
    #: A citizen asking on the portal for their own files (the desk is then the portal).
    citizen = models.BooleanField(default=False)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.SENT, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.CharField(_("reasons"), max_length=500, blank=True)
    records_found = models.PositiveIntegerField(_("records found"), null=True, blank=True)
    created_at = models.DateTimeField(_("asked"), default=timezone.now, db_index=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    decided_at = models.DateTimeField(_("answered"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("remote request")
        verbose_name_plural = _("remote requests")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.number

    @property
    def masked_id_number(self) -> str:
        from dangan.people.id_numbers import mask

        return mask(self.id_number)

    @property
    def days_to_answer(self) -> float | None:
        if self.decided_at is None:
            return None
        start = self.received_at or self.created_at
        return round((self.decided_at - start).total_seconds() / 86400, 2)


class DeliveredCertificate(models.Model):
    """A certificate the holder issued for a remote request, as the asking desk keeps it: the
    holder's PDF byte for byte (its digest is what the holder signed) and what its public page
    shows. Within one installation it is the holder's own ``access.Certificate`` too."""

    request = models.ForeignKey(
        RemoteRequest, on_delete=models.PROTECT, related_name="certificates"
    )
    certificate = models.ForeignKey(
        "access.Certificate", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    number = models.CharField(_("certificate number"), max_length=20)
    issuer_name = models.CharField(_("issuer"), max_length=200)
    issued_at = models.DateTimeField(_("issued"))
    summary = models.JSONField(_("masked summary"), default=dict)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    signature = models.CharField(_("signature"), max_length=200)
    key_fingerprint = models.CharField(_("signing key"), max_length=64)
    verify_url = models.URLField(_("verification address"), max_length=300)
    blob = models.ForeignKey("content.Blob", on_delete=models.PROTECT, related_name="+")
    delivered_at = models.DateTimeField(_("delivered"), default=timezone.now)

    class Meta:
        verbose_name = _("delivered certificate")
        verbose_name_plural = _("delivered certificates")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["request", "number"], name="remote_one_copy_each")
        ]

    def __str__(self):
        return self.number


class OutboxMessage(models.Model):
    """A message waiting to go to a peer (or gone): sent by the worker, retried with backoff
    until the peer acknowledges it. Written in the transaction of the change it tells about."""

    class Kind(models.TextChoices):
        REQUEST = "request", _("Request")
        ANSWER = "answer", _("Answer")
        CERTIFICATE = "certificate", _("Certificate")
        WITHDRAWAL = "withdrawal", _("Withdrawal")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="outbox")
    request = models.ForeignKey(RemoteRequest, on_delete=models.PROTECT, related_name="outbox")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    body = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_error = models.CharField(max_length=500, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.kind} {self.request_id} → {self.peer_id}"


class InboxMessage(models.Model):
    """A message a peer sent that was accepted: its id is kept so that the same message twice
    creates nothing new, and another message under a used id is refused."""

    id = models.UUIDField(primary_key=True)
    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12)
    digest = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return str(self.id)


class Counter(models.Model):
    """The last request number given per asking desk and year."""

    series = models.CharField(max_length=64, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.series} #{self.last}"
