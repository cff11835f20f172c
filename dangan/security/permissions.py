"""The permission registry: the one list of what a role may do, and the one rule that asks it.

Every page's predicate (``may_keep_stacks``, ``is_desk_reader``…), and with it the menu item that
shares it (``dangan.menu``), the API (``may_read_records``, ``may_edit_records``) and the
services' checks, asks ``has_permission(user, "stacks.keep")``. A role is a set of these codes:

* the county's business roles are data (``accounts.RoleDefinition``), defined by the system
  administrator from ``PERMISSIONS``; today's roles are loaded as defaults by a migration
  (``DEFAULT_ROLES``), so nothing changes for a county that defines none;
* the three administrators (三员) and the citizen are fixed here (``FIXED_ROLES``): no edit can
  give an administrator archive reading, and no county role can carry an administrator's duty
  (``ADMIN_ONLY``), so one person never holds two of the three duties (``accounts.services``
  checks every edit path against ``check_role_permissions``).

What records a permission reaches is still the user's grants (fonds, category, unit, secrecy):
the role says what the user may do, the grants say where.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .roles import Role


@dataclass(frozen=True)
class Permission:
    code: str
    label: str
    #: Reads records (or what they say about persons): never an administrator's.
    reads_records: bool = True
    #: Part of one of the three administrators' duties: never a county role's.
    admin_only: bool = False


_LIST = [
    # Records and persons
    Permission("records.read", gettext_lazy("Read records and persons' files (within the grants)")),
    Permission("records.edit", gettext_lazy("File and change records (within the grants)")),
    Permission("statistics.view", gettext_lazy("See the dashboard and the annual report")),
    # Bringing records in
    Permission("intake.import", gettext_lazy("Import old registers")),
    Permission("intake.receive", gettext_lazy("Receive and check hand-over lists")),
    Permission("intake.send", gettext_lazy("Draw up and send hand-over lists for one's unit")),
    Permission("digitize.scan", gettext_lazy("Bring in scans")),
    Permission("stacks.keep", gettext_lazy("Keep the stacks (rooms, shelves, boxes, climate)")),
    Permission("duplicates.review", gettext_lazy("Decide about suspected duplicates")),
    # Use of records
    Permission("access.desk", gettext_lazy("Open the reading room's register and lists")),
    Permission("access.serve", gettext_lazy("Serve the reading room: visits, loans, copies")),
    Permission("access.approve", gettext_lazy("Approve access requests")),
    Permission("portal.counter", gettext_lazy("Bind citizens' accounts at the counter")),
    Permission("remote.desk", gettext_lazy("Ask and deliver remote requests")),
    Permission("remote.answer", gettext_lazy("Answer remote requests received")),
    # Appraisal and oversight
    Permission("appraisal.use", gettext_lazy("Appraise records: due list, batches, holds")),
    Permission(
        "appraisal.approve", gettext_lazy("Approve destruction lists (as the designated head)")
    ),
    Permission("oversight.view", gettext_lazy("See every unit's surveys, inspections, keepers")),
    Permission("oversight.steer", gettext_lazy("Open surveys, inspect, hand over custody")),
    Permission("oversight.answer", gettext_lazy("Answer surveys for one's own unit")),
    Permission("compilation.edit", gettext_lazy("Make compilations and exhibitions")),
    Permission("compilation.approve", gettext_lazy("Approve compilations and exhibitions")),
    # Findings, not records: the administrators may hold these too
    Permission("workbench", gettext_lazy("Use the workbench"), reads_records=False),
    Permission(
        "integrity.view",
        gettext_lazy("See the ledger, its checks and the four-property reports"),
        reads_records=False,
    ),
    Permission("storage.view", gettext_lazy("See the storage alerts"), reads_records=False),
    Permission("storage.handle", gettext_lazy("Handle the storage alerts"), reads_records=False),
    # The three administrators' own (fixed, never in a county role)
    Permission(
        "remote.peers",
        gettext_lazy("Register peer installations"),
        reads_records=False,
        admin_only=True,
    ),
    Permission(
        "intake.senders",
        gettext_lazy("Register the business systems that file by themselves"),
        reads_records=False,
        admin_only=True,
    ),
    Permission(
        "alerts.view",
        gettext_lazy("See and acknowledge security alerts"),
        reads_records=False,
        admin_only=True,
    ),
    Permission(
        "audit.trail", gettext_lazy("Read the audit trail"), reads_records=False, admin_only=True
    ),
]

#: Every permission by its code, in the order the role form lists them.
PERMISSIONS: dict[str, Permission] = {p.code: p for p in _LIST}
ADMIN_ONLY = {p.code for p in _LIST if p.admin_only}
READING = {p.code for p in _LIST if p.reads_records}

#: The roles fixed in code: the three administrators (one duty each) and the citizen (the
#: portal's, who reads only their own files through the portal's selector).
FIXED_ROLES: dict[str, frozenset[str]] = {
    Role.SYSTEM_ADMIN: frozenset(
        {
            "remote.peers",
            "intake.senders",
            "workbench",
            "integrity.view",
            "storage.view",
            "storage.handle",
        }
    ),
    Role.SECURITY_ADMIN: frozenset({"alerts.view", "workbench", "integrity.view"}),
    Role.AUDITOR: frozenset({"audit.trail", "workbench", "integrity.view", "storage.view"}),
    Role.CITIZEN: frozenset(),
}

#: Today's business roles: loaded as ``accounts.RoleDefinition`` rows by a migration, then the
#: county's to change (a copy is frozen in that migration).
DEFAULT_ROLES: dict[str, frozenset[str]] = {
    Role.ARCHIVIST: frozenset(
        {
            "records.read",
            "records.edit",
            "statistics.view",
            "intake.import",
            "intake.receive",
            "digitize.scan",
            "stacks.keep",
            "duplicates.review",
            "access.desk",
            "access.serve",
            "access.approve",
            "portal.counter",
            "remote.desk",
            "remote.answer",
            "appraisal.use",
            "oversight.view",
            "oversight.steer",
            "compilation.edit",
            "workbench",
            "integrity.view",
            "storage.view",
            "storage.handle",
        }
    ),
    Role.READING_CLERK: frozenset(
        {
            "records.read",
            "statistics.view",
            "access.desk",
            "access.serve",
            "portal.counter",
            "remote.desk",
            "workbench",
        }
    ),
    Role.UNIT_CLERK: frozenset(
        {"records.read", "statistics.view", "intake.send", "oversight.answer", "workbench"}
    ),
    Role.TOWN_CLERK: frozenset(
        {"records.read", "statistics.view", "intake.send", "oversight.answer", "workbench"}
    ),
    Role.LEADER: frozenset(
        {
            "records.read",
            "statistics.view",
            "access.desk",
            "access.approve",
            "remote.desk",
            "remote.answer",
            "appraisal.use",
            "appraisal.approve",
            "oversight.view",
            "compilation.approve",
            "workbench",
        }
    ),
}


def has_permission(user, code: str) -> bool:
    """Whether ``user`` (active, logged in) holds ``code`` through their role.

    The one rule of the pages, the menu and the API. An unknown code is a programming error."""
    if code not in PERMISSIONS:
        raise KeyError(f"unknown permission {code!r}")
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return code in user.permission_codes


def check_role_permissions(codes) -> None:
    """Refuse, with the reason, a county role that would break the separation of duties."""
    unknown = sorted(set(codes) - set(PERMISSIONS))
    if unknown:
        raise ValidationError(
            _("These are not permissions: %(codes)s") % {"codes": ", ".join(unknown)},
            code="unknown_permission",
        )
    duties = [str(PERMISSIONS[c].label) for c in codes if c in ADMIN_ONLY]
    if duties:
        raise ValidationError(
            _(
                "A county role cannot carry an administrator's duty (%(duties)s): the three "
                "administrators' roles are fixed, so that one person never holds two of them."
            )
            % {"duties": "; ".join(duties)},
            code="admin_duty",
        )
