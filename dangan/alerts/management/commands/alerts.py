"""``dangan alerts [--json]``: the open security alerts, for a county's monitoring.

Exit status 1 when any alert is open, 0 when none; ``--json`` prints a list of objects (at least
``kind``, ``at`` and ``summary``)."""

import json
import sys

from django.core.management.base import BaseCommand
from django.utils import timezone

from dangan.alerts import selectors, services


class Command(BaseCommand):
    help = "List the open security alerts; exit 1 when any is open."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="a JSON list on stdout")

    def handle(self, *args, **options):
        services.check_settings()
        alerts = list(selectors.open_alerts().order_by("at", "id"))
        if options["json"]:
            listed = [selectors.as_json(a) for a in alerts]
            self.stdout.write(json.dumps(listed, ensure_ascii=False))
        elif not alerts:
            self.stdout.write("No open security alerts.")
        else:
            for alert in alerts:
                at = timezone.localtime(alert.at).strftime("%Y-%m-%d %H:%M:%S")
                times = f" (x{alert.count})" if alert.count > 1 else ""
                self.stdout.write(f"{at}  {alert.kind}  {alert.summary}{times}  {alert.link}")
        if alerts:
            sys.exit(1)
