"""``dangan search [QUERY] [--field NAME=VALUE]... [--from DATE] [--to DATE] [--exact]
[--user NAME] [--json]``: the search page's results on a terminal."""

import json
import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dangan.catalogue.models import Category, Fonds
from dangan.search.advanced import build
from dangan.search.selectors import MODES, search


def _plain(html: str) -> str:
    """A snippet for a terminal: 【marked】 instead of <mark>, entities undone."""
    import html as html_module

    return html_module.unescape(re.sub(r"</?mark>", lambda m: "】" if "/" in m[0] else "【", html))


class Command(BaseCommand):
    help = "Search the records a user may see, as the search page does."

    def add_arguments(self, parser):
        parser.add_argument("query", nargs="*")
        parser.add_argument(
            "--field",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="a condition on responsible, doc_number, title or a field of a category's schema",
        )
        parser.add_argument("--from", dest="date_from", default="", help="record date from")
        parser.add_argument("--to", dest="date_to", default="", help="record date to")
        parser.add_argument(
            "--exact", action="store_true", help="field values match exactly, not as a part"
        )
        parser.add_argument(
            "--user",
            help="search with this user's rights (default: every record, as the system)",
        )
        parser.add_argument("--persons", action="store_true", help="find persons, not records")
        parser.add_argument("--fonds", help="fonds number, e.g. A001")
        parser.add_argument("--category", help="category code, e.g. SYTG")
        parser.add_argument("--year", type=int)
        parser.add_argument("--retention", help="Y, D10, D30, …")
        parser.add_argument("--openness")
        parser.add_argument("--page", type=int, default=1)
        parser.add_argument("--limit", type=int, default=20, help="hits per page")
        parser.add_argument("--json", action="store_true", help="print the hits as JSON")

    def handle(self, *args, **options):
        user = None
        if options["user"]:
            try:
                user = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(_("No user %(name)s.") % {"name": options["user"]}) from None
        try:
            advanced = build(
                fields=options["field"],
                date_from=options["date_from"],
                date_to=options["date_to"],
                exact=options["exact"],
                user=user,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if not options["query"] and not advanced:
            raise CommandError(_("Give words to search for, a --field condition or dates."))
        results = search(
            user,
            " ".join(options["query"]),
            advanced=advanced,
            filters=self._filters(options),
            page=options["page"],
            mode=MODES[1] if options["persons"] else MODES[0],
            page_size=options["limit"],
            system=user is None,
        )
        if options["json"]:
            self.stdout.write(json.dumps(self._as_json(results), ensure_ascii=False, indent=1))
        else:
            self._print(results)

    def _filters(self, options) -> dict:
        filters = {k: options[k] for k in ("year", "retention", "openness") if options[k]}
        try:
            if options["fonds"]:
                filters["fonds"] = Fonds.objects.get(code=options["fonds"]).pk
            if options["category"]:
                filters["category"] = Category.objects.get(code=options["category"]).pk
        except (Fonds.DoesNotExist, Category.DoesNotExist):
            raise CommandError(_("No such fonds or category.")) from None
        return filters

    def _as_json(self, results) -> list:
        if results.mode == "persons":
            return [
                {
                    "person_id": hit.person.pk,
                    "name": hit.person.name,
                    "id_number": hit.masked_id,
                    "records": hit.records,
                    "score": hit.score,
                }
                for hit in results.persons
            ]
        return [
            {
                "record_id": hit.record.pk,
                "archival_code": hit.record.archival_code,
                "legacy_number": hit.record.legacy_number,
                "title": hit.record.title,
                "category": hit.record.category.code,
                "year": hit.record.year,
                "score": hit.score,
                "pages": [s.page for s in hit.snippets if s.page is not None],
                "snippets": [_plain(s.html) for s in hit.snippets],
            }
            for hit in results.hits
        ]

    def _print(self, results) -> None:
        if results.mode == "persons":
            for hit in results.persons:
                self.stdout.write(f"{hit.person.name}  {hit.masked_id}  ({hit.records})")
        for hit in results.hits:
            record = hit.record
            code = record.archival_code or record.legacy_number or "—"
            self.stdout.write(f"{hit.score:8.3f}  {code}  {record.title}")
            for snippet in hit.snippets:
                where = _("p. %(n)s") % {"n": snippet.page} if snippet.page else ""
                self.stdout.write(f"          {where} {_plain(snippet.html)}")
        total = _("more than %(n)s") % {"n": results.total} if results.capped else results.total
        self.stderr.write(
            _("%(total)s found, page %(page)s of %(pages)s")
            % {"total": total, "page": results.page, "pages": max(results.pages, 1)}
        )
