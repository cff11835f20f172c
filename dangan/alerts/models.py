from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SecurityAlert(models.Model):
    """An event the security administrator must look at (安全告警): what, when, who, where to
    look; open until acknowledged with a note. Repeats of one cause (``key``) while the alert is
    open are counted on it instead of flooding the list and the mailbox."""

    class Kind(models.TextChoices):
        FAILED_LOGINS_ACCOUNT = "failed_logins_account", _("Repeated failed log-ins (account)")
        FAILED_LOGINS_ADDRESS = "failed_logins_address", _("Repeated failed log-ins (address)")
        OUT_OF_SCOPE = "out_of_scope", _("Attempt to open records outside one's scope")
        SLOW_RESPONSES = "slow_responses", _("Slow responses")
        RESTORE = "restore", _("Restore from a backup")
        SECURITY_CHANGE = "security_change", _("Change of a security setting or role")
        VERIFICATION_FAILED = "verification_failed", _("Audit trail or ledger failed verification")

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices, db_index=True)
    key = models.CharField(_("cause"), max_length=200, blank=True)
    at = models.DateTimeField(_("time"), db_index=True)
    last_at = models.DateTimeField(_("last seen"))
    count = models.PositiveIntegerField(_("times"), default=1)
    who = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    who_name = models.CharField(_("who (name)"), max_length=150, blank=True)
    summary = models.CharField(_("what"), max_length=500)
    link = models.CharField(_("link"), max_length=500, blank=True)
    detail = models.JSONField(_("detail"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("security alert")
        verbose_name_plural = _("security alerts")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["kind", "key", "acknowledged_at"], name="alert_cause")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}: {self.summary}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None


class SettingsSnapshot(models.Model):
    """The security settings as last seen, so that a change between two starts is an alert."""

    at = models.DateTimeField(_("time"))
    values = models.JSONField(_("values"))

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M}"
