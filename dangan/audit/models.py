from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One entry of the audit trail: who did what to which object, when, before and after.

    Entries are chained: ``digest`` covers the entry and the previous entry's digest, so that
    an entry removed or edited behind the application's back breaks the chain. There are as
    many chains as writers that ever wrote at the same moment (``chain``, one ``AuditHead``
    each): a writer appends to a chain no other open transaction holds, so writers do not wait
    for each other. Within a chain, entries follow each other in id order.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")
        READ = "read", _("Read")
        EXPORT = "export", _("Exported")
        DOWNLOAD = "download", _("Downloaded")
        IMPORT = "import", _("Imported")
        SEARCH = "search", _("Searched")
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Failed log-in")
        LOGOUT = "logout", _("Logged out")
        PRUNE = "prune", _("Pruned the trail")
        REFUSE = "refuse", _("Refused")

    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("who (name)"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices, db_index=True)
    object_type = models.CharField(_("object type"), max_length=40, blank=True)
    object_id = models.CharField(_("object"), max_length=40, blank=True)
    object_repr = models.CharField(_("object (as shown)"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    detail = models.JSONField(_("detail"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    previous_digest = models.CharField(max_length=64, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    chain = models.PositiveIntegerField(_("chain"), default=1)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["chain", "id"], name="audit_chain"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"


class AuditHead(models.Model):
    """A chain's latest digest, one row a chain (its id is the chain's number), locked by the
    transaction that appends to the chain until it ends. A writer takes a head no other
    transaction holds (``SKIP LOCKED``), or opens a new chain when every head is held."""

    digest = models.CharField(max_length=64, blank=True)

    def __str__(self):
        return self.digest


class AuditAnchor(models.Model):
    """Where the chain starts after old entries were pruned: the digest of the last entry
    removed, one anchor a chain pruned. ``verify_chain`` starts each chain from its newest
    anchor instead of the empty digest; the
    pruning itself is an entry of the chain that names the anchor, so the anchor cannot be
    moved behind the chain's back without breaking it."""

    at = models.DateTimeField(_("time"))
    chain = models.PositiveIntegerField(_("chain"), default=1)
    first_kept_id = models.BigIntegerField(_("first entry kept"))
    digest = models.CharField(_("digest of the last entry removed"), max_length=64)
    removed = models.PositiveIntegerField(_("entries removed"))

    class Meta:
        verbose_name = _("audit anchor")
        verbose_name_plural = _("audit anchors")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d} #{self.first_kept_id}"
