"""``dangan oversight [--year YEAR] [--json]``: every business unit and town at a glance — what
Dangan knows for its inspection, whether it answered the year's survey, its keepers, and its
findings past their date. Run it before the inspection round, or monthly from cron."""

import json

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.oversight import selectors
from dangan.oversight.models import Finding, Survey


class Command(BaseCommand):
    help = _("Every unit's facts, survey answer, keepers and overdue findings for one year.")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help=_("the year (default: this year)"))
        parser.add_argument("--json", action="store_true", help=_("print one JSON object"))

    def handle(self, *args, year=None, json=False, **options):
        today = timezone.localdate()
        year = year or today.year
        survey = Survey.objects.filter(year=year).first()
        answered = set(survey.answers.values_list("unit_id", flat=True)) if survey else set()
        units = list(selectors.overseen_units())
        keepers = {row["unit"].pk: row for row in selectors.keeper_rows(units)}
        rows = []
        for n, unit in enumerate(units, start=1):
            if not json:
                self.stderr.write(f"\r{n}/{len(units)}", ending="")
            overdue = Finding.objects.filter(
                inspection__unit=unit, closed_at__isnull=True, due_on__lt=today
            ).count()
            rows.append(
                {
                    "unit": unit.code,
                    "name": unit.name,
                    "facts": selectors.inspection_facts(unit, year, today=today),
                    "survey_answered": unit.pk in answered,
                    "nobody_named": keepers[unit.pk]["nobody_named"],
                    "nobody_trained": keepers[unit.pk]["nobody_trained"],
                    "findings_overdue": overdue,
                }
            )
        summary = {
            "year": year,
            "units": len(rows),
            "survey_open": bool(survey and survey.is_open),
            "not_answered": sum(not r["survey_answered"] for r in rows),
            "nobody_named": sum(r["nobody_named"] for r in rows),
            "nobody_trained": sum(r["nobody_trained"] for r in rows),
            "findings_overdue": sum(r["findings_overdue"] for r in rows),
            "rows": rows,
        }
        if json:
            self.stdout.write(_dumps(summary))
            return
        self.stderr.write("")
        for row in rows:
            flags = [
                _("no answer") if not row["survey_answered"] else "",
                _("nobody named") if row["nobody_named"] else "",
                _("nobody trained") if row["nobody_trained"] else "",
                _("%(n)d findings overdue") % {"n": row["findings_overdue"]}
                if row["findings_overdue"]
                else "",
            ]
            self.stdout.write(f"{row['unit']}  {row['name']}  " + "; ".join(f for f in flags if f))
        self.stdout.write(
            _(
                "%(units)d units; %(not_answered)d without a survey answer, %(nobody_named)d with "
                "nobody named, %(nobody_trained)d with nobody trained, %(findings_overdue)d "
                "findings past their date."
            )
            % summary
        )


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)
