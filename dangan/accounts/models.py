from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The roles are defined with the separation of duties in dangan.security; every app finds them
# here too, beside the user who holds one.
from dangan.security.permissions import has_permission
from dangan.security.roles import ADMIN_ROLES, EDITING_ROLES, NO_RECORD_ROLES, Role  # noqa: F401

from .twofactor import SecretField


class Unit(models.Model):
    """单位: the county bureau, one of its business units, a town or a village service point.

    In a province's installation each county (县) is a top-level unit of kind ``county`` with its
    bureau, business units and towns under it; its staff see only its records (see
    ``selectors.record_scope``).
    """

    class Kind(models.TextChoices):
        COUNTY = "county", _("County")
        BUREAU = "bureau", _("County bureau")
        BUSINESS = "business", _("Business unit")
        TOWN = "town", _("Town service platform")
        VILLAGE = "village", _("Village service point")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["code"]

    def __str__(self):
        return self.name


class User(AbstractUser):
    """A person who logs in. What records they see is decided by their grants alone."""

    #: A fixed role (``security.permissions.FIXED_ROLES``) or a ``RoleDefinition``'s code.
    role = models.CharField(_("role"), max_length=20, default=Role.ARCHIVIST, db_index=True)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def permission_codes(self) -> frozenset[str]:
        """What the user's role may do (``security.permissions``), read once per user object."""
        remembered = self.__dict__.get("_permission_codes")
        if remembered is None or remembered[0] != self.role:
            from .selectors import role_permissions

            remembered = (self.role, role_permissions(self.role))
            self._permission_codes = remembered
        return remembered[1]

    @property
    def may_edit_records(self):
        return has_permission(self, "records.edit")

    @property
    def may_read_records(self):
        return has_permission(self, "records.read")

    def get_role_display(self):
        from .selectors import role_label

        return role_label(self.role)


class Secrecy(models.IntegerChoices):
    """密级, ordered so that a grant up to a level covers every lower level."""

    PUBLIC = 0, _("Public")
    INTERNAL = 1, _("Internal")
    SECRET = 2, _("Secret")
    CONFIDENTIAL = 3, _("Confidential")
    TOP_SECRET = 4, _("Top secret")


class Grant(models.Model):
    """A right to read (and, for an archivist, to change) the records in one scope.

    An empty fonds, category or unit means "any". A user sees a record when any one of their
    grants covers it; with no grant a user sees nothing.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    fonds = models.ForeignKey(
        "catalogue.Fonds", verbose_name=_("fonds"), null=True, blank=True, on_delete=models.CASCADE
    )
    category = models.ForeignKey(
        "catalogue.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("records of unit"), null=True, blank=True, on_delete=models.CASCADE
    )
    max_secrecy = models.PositiveSmallIntegerField(
        _("up to secrecy level"), choices=Secrecy.choices, default=Secrecy.INTERNAL
    )

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")

    def __str__(self):
        any_ = _("any")
        return (
            f"{self.user}: {self.fonds or any_} / {self.category or any_} / "
            f"{self.unit or any_} ≤ {self.get_max_secrecy_display()}"
        )


class TwoFactorDevice(models.Model):
    """A user's authenticator app (TOTP, RFC 6238): the shared secret and the last code used.

    ``confirmed`` turns true when the user has typed one code from the app at enrolment;
    ``last_counter`` refuses a code that was already used (a replayed code).
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="two_factor")
    secret = SecretField(max_length=255)
    confirmed = models.BooleanField(default=False)
    last_counter = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("two-factor device")
        verbose_name_plural = _("two-factor devices")

    def __str__(self):
        return str(self.user)


class Lockout(models.Model):
    """A lock after failed log-ins, on one account (by the name typed) or one client address.

    It ends by itself at ``ends_at`` (never when empty) or when the security administrator
    lifts it; see ``lockout``."""

    class Scope(models.TextChoices):
        ACCOUNT = "account", _("Account")
        ADDRESS = "address", _("Client address")

    scope = models.CharField(_("locked"), max_length=8, choices=Scope.choices)
    key = models.CharField(_("account or address"), max_length=150, db_index=True)
    failures = models.PositiveIntegerField(_("failed attempts"))
    addresses = models.JSONField(_("from addresses"), default=list, blank=True)
    started_at = models.DateTimeField(_("locked since"))
    ends_at = models.DateTimeField(_("locked until"), null=True, blank=True)
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        User,
        verbose_name=_("lifted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("lock-out")
        verbose_name_plural = _("lock-outs")
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.get_scope_display()} {self.key}"

    @property
    def in_force(self) -> bool:
        return self.lifted_at is None and (self.ends_at is None or self.ends_at > timezone.now())


class RoleDefinition(models.Model):
    """角色: one of the county's business roles, a set of permissions from the registry
    (``dangan.security.permissions.PERMISSIONS``).

    Today's roles (archivist, reading-room clerk, unit and town clerks, leader) are loaded by a
    migration with an empty ``name`` (their translated names are shown); the county changes
    them or adds its own (``services.define_role``). The three administrators' roles and the
    citizen's are fixed in code and have no row.
    """

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    permissions = models.JSONField(_("permissions"), default=list)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["code"]

    def __str__(self):
        if self.name:
            return self.name
        try:
            return str(Role(self.code).label)
        except ValueError:
            return self.code


class ApprovalFlow(models.Model):
    """审批流程: the roles that approve one kind of request, in order (e.g. the archivist checks,
    then the leader approves). Without a row, today's single step applies (see the app that
    decides that kind). Kept by the system administrator; ``services.set_approval_flow``; the
    steps are taken through ``approvals``."""

    class Kind(models.TextChoices):
        COPY_REQUEST = "copy_request", _("Copy requests")
        DESTRUCTION = "destruction", _("Destruction lists")
        OPENING = "opening", _("Opening reviews")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, unique=True)
    roles = models.JSONField(_("roles, in order"), default=list)

    class Meta:
        verbose_name = _("approval steps")
        verbose_name_plural = _("approval steps")

    def __str__(self):
        from .selectors import role_label

        return " → ".join(role_label(r) for r in self.roles)


class ApprovalStep(models.Model):
    """One step taken of an approval (``approvals``): which request of which kind, the step's
    number and role, who took it, when and why. Kept for good: the proof of the approval."""

    kind = models.CharField(_("kind"), max_length=16, choices=ApprovalFlow.Kind.choices)
    subject_id = models.PositiveBigIntegerField(_("request"))
    step = models.PositiveSmallIntegerField(_("step"))
    role = models.CharField(_("role"), max_length=20)
    approver = models.ForeignKey(
        User, verbose_name=_("approved by"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("approved"))
    reason = models.CharField(_("reasons"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["kind", "subject_id", "step"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_id", "step"], name="one_approval_step_each"
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.subject_id} #{self.step}"

    def get_role_display(self):
        from .selectors import role_label

        return role_label(self.role)
