"""A citizen's account on the portal and the ID number it is bound to once verified."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CitizenProfile(models.Model):
    """服务对象: what the portal knows of a citizen's account (a ``Role.CITIZEN`` user).

    ``id_number`` stays empty until the holder is verified — by the provincial single sign-on,
    whose ID token carries the number it checked (实名认证), or at the counter, where a clerk
    reads the ID card. Until then the citizen sees no records at all: a number typed by the
    account holder proves nothing.
    """

    class Binding(models.TextChoices):
        SSO = "sso", _("Provincial single sign-on")
        COUNTER = "counter", _("At the counter, ID card checked")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="citizen"
    )
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    id_number = models.CharField(
        _("bound ID number"), max_length=18, null=True, blank=True, unique=True
    )
    bound_via = models.CharField(
        _("verified by"), max_length=8, choices=Binding.choices, blank=True
    )
    bound_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    bound_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by (clerk)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    oidc_issuer = models.CharField(_("single sign-on issuer"), max_length=200, blank=True)
    oidc_subject = models.CharField(_("single sign-on subject"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("citizen account")
        verbose_name_plural = _("citizen accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["phone"], condition=~Q(phone=""), name="citizen_phone_unique"
            ),
            models.UniqueConstraint(
                fields=["oidc_issuer", "oidc_subject"],
                condition=~Q(oidc_subject=""),
                name="citizen_oidc_subject_unique",
            ),
        ]

    def __str__(self):
        return str(self.user)

    @property
    def is_bound(self) -> bool:
        return bool(self.id_number)
