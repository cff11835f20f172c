"""``dangan loans [--remind] [--json]``: the overdue loans of paper files; with ``--remind``,
mail each borrower who has an e-mail address (once a day at most). Run it daily from cron or a
systemd timer, e.g. ``0 8 * * * dangan loans --remind``."""

import json

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.access import selectors, services


class Command(BaseCommand):
    help = _("List overdue loans; with --remind, mail their borrowers.")

    def add_arguments(self, parser):
        parser.add_argument("--remind", action="store_true", help=_("mail the borrowers"))
        parser.add_argument("--json", action="store_true", help=_("print one JSON object"))

    def handle(self, *args, remind=False, json=False, **options):
        today = timezone.localdate()
        overdue = list(selectors.overdue_loans(None, today=today))
        summary = {
            "today": today.isoformat(),
            "overdue": [
                {
                    "loan": loan.pk,
                    "record": loan.record.archival_code or loan.record.legacy_number,
                    "borrower": loan.borrower_name,
                    "email": bool(loan.borrower_email),
                    "due_on": loan.due_on.isoformat(),
                    "days_overdue": loan.days_overdue(today),
                }
                for loan in overdue
            ],
        }
        if remind:
            summary["reminders"] = services.send_reminders(today=today)
        if json:
            self.stdout.write(_dumps(summary))
            return
        for row in summary["overdue"]:
            self.stdout.write(
                _("%(record)s  %(borrower)s  due %(due)s (%(days)d days overdue)")
                % {
                    "record": row["record"],
                    "borrower": row["borrower"],
                    "due": row["due_on"],
                    "days": row["days_overdue"],
                }
            )
        self.stdout.write(_("%(n)d overdue loans.") % {"n": len(overdue)})
        if remind:
            r = summary["reminders"]
            self.stdout.write(
                _("Reminders sent: %(sent)d; without e-mail: %(none)d; failed: %(failed)d.")
                % {"sent": r["reminded"], "none": r["without_email"], "failed": r["failed"]}
            )


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)
