"""``dangan appraisal``: the retention schedule at work, from the command line.

dangan appraisal due [--category X] [--year Y] [--json]   what is due, by category and year
dangan appraisal approve LIST --as USER [--note TEXT]      the designated head approves a
                                                           destruction list (refused for anyone
                                                           else, and for the proposer)
dangan appraisal certificate LIST FILE                     the destruction certificate (PDF)
"""

import json

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from dangan.appraisal import selectors, services
from dangan.appraisal.certificate import certificate_pdf
from dangan.appraisal.models import DestructionList
from dangan.catalogue.models import Record


class Command(BaseCommand):
    help = "Appraisal: records due, approval of destruction lists, certificates."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        due = sub.add_parser("due", help="Records due for appraisal, by category and year.")
        due.add_argument("--category", help="category code")
        due.add_argument("--year", type=int)
        due.add_argument("--json", action="store_true")
        approve = sub.add_parser("approve", help="Approve a destruction list (the head only).")
        approve.add_argument("list_id", type=int)
        approve.add_argument("--as", dest="username", required=True, help="the designated head")
        approve.add_argument("--note", default="")
        certificate = sub.add_parser("certificate", help="Print a destruction certificate.")
        certificate.add_argument("list_id", type=int)
        certificate.add_argument("file")

    def handle(self, *args, action, **options):
        return getattr(self, f"_{action}")(**options)

    def _due(self, *, category=None, year=None, **options):
        # The operator's view: every record (the due list of the pages is the user's own).
        from django.utils import timezone

        records = (
            Record.objects.filter(state=Record.State.FILED)
            .filter(selectors.expired_by(timezone.localdate()))
            .exclude(pk__in=selectors.active_holds().values("record_id"))
            .exclude(pk__in=selectors.kept_on(timezone.localdate()).values("record_id"))
        )
        if category:
            records = records.filter(category__code=category)
        if year:
            records = records.filter(year=year)
        rows = list(
            records.values("category__code", "year")
            .annotate(count=Count("id"))
            .order_by("category__code", "year")
        )
        if options["json"]:
            self.stdout.write(json.dumps({"due": rows, "total": sum(r["count"] for r in rows)}))
            return
        for row in rows:
            self.stdout.write(f"{row['category__code']:8} {row['year']}  {row['count']}")
        self.stdout.write(f"{sum(r['count'] for r in rows)} records due")

    def _approve(self, *, list_id, username, note, **options):
        try:
            listing = DestructionList.objects.get(pk=list_id)
            user = get_user_model().objects.get(username=username)
        except (DestructionList.DoesNotExist, get_user_model().DoesNotExist):
            raise CommandError("No such list or user.") from None
        try:
            services.approve_destruction(actor=user, listing=listing, note=note)
        except (PermissionDenied, ValidationError) as error:
            raise CommandError(" ".join(getattr(error, "messages", [str(error)]))) from None
        self.stdout.write(f"{listing}: approved; {listing.items.count()} records destroyed")

    def _certificate(self, *, list_id, file, **options):
        try:
            listing = DestructionList.objects.get(pk=list_id, state=DestructionList.State.DESTROYED)
        except DestructionList.DoesNotExist:
            raise CommandError("No carried-out destruction list with this number.") from None
        with open(file, "wb") as out:
            out.write(certificate_pdf(listing))
        self.stdout.write(file)
