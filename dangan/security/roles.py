"""The roles a user may hold: business roles and the three administrators (三员).

Kept here, with the separation of duties (``duties``), under every app: the audit trail, the
accounts and the pages all ask what a role may do, and none of them may import the others in a
circle. The user who holds a role is ``dangan.accounts.models.User``.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Business roles and the three administrators (三员), who are mutually exclusive."""

    ARCHIVIST = "archivist", _("Archivist")
    READING_CLERK = "reading_clerk", _("Reading-room clerk")
    UNIT_CLERK = "unit_clerk", _("Business-unit clerk")
    TOWN_CLERK = "town_clerk", _("Town clerk")
    LEADER = "leader", _("Leader")
    CITIZEN = "citizen", _("Citizen")
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDITOR = "auditor", _("Security auditor")


#: Roles that may file and change records inside their grants.
EDITING_ROLES = {Role.ARCHIVIST}
#: Roles that never read records, whatever grants they hold (三员分立).
NO_RECORD_ROLES = {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR, Role.CITIZEN}
#: The three administrators (三员): the only roles that use the Django admin, one duty each.
ADMIN_ROLES = {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR}
