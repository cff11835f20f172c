"""``dangan compilation``: the archive's compilations (编研成果) for the operator.

dangan compilation list [--json]                         every compilation: id, kind, title,
                                                         state, entries
dangan compilation export ID --format pdf|docx|xlsx OUT  write one to OUT: the version a
                                                         leader approved, else the draft
                                                         (marked as a draft on its cover)
"""

import json
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.utils.translation import gettext as _

from dangan.compilation import exports, selectors, services
from dangan.compilation.models import Compilation


class Command(BaseCommand):
    help = _("List the compilations, or export one as PDF, DOCX or Excel.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="task", required=True)
        listing = sub.add_parser("list", help=_("every compilation"))
        listing.add_argument("--json", action="store_true", help=_("print one JSON array"))
        export = sub.add_parser("export", help=_("write one compilation to a file"))
        export.add_argument("id", type=int, help=_("the compilation's number"))
        export.add_argument("out", help=_("the file to write"))
        export.add_argument("--format", required=True, choices=exports.FORMATS)

    def handle(self, *args, task, **options):
        if task == "list":
            return self._list(options["json"])
        return self._export(options["id"], options["format"], Path(options["out"]))

    def _list(self, as_json: bool) -> None:
        rows = [
            {
                "id": c.pk,
                "kind": c.kind,
                "title": c.title,
                "state": c.state,
                "entries": c.entry_count,
            }
            for c in Compilation.objects.annotate(entry_count=Count("entries")).order_by("id")
        ]
        if as_json:
            self.stdout.write(json.dumps(rows, ensure_ascii=False))
            return
        labels = dict(Compilation.Kind.choices)
        states = dict(Compilation.State.choices)
        for row in rows:
            self.stdout.write(
                f"{row['id']:>5}  {labels[row['kind']]}  {states[row['state']]}  "
                + _("%(n)d entries") % {"n": row["entries"]}
                + f"  {row['title']}"
            )

    def _export(self, pk: int, format: str, out: Path) -> None:
        try:
            compilation = Compilation.objects.get(pk=pk)
        except Compilation.DoesNotExist:
            raise CommandError(_("There is no compilation %(id)s.") % {"id": pk}) from None
        content = selectors.export_content(compilation)
        show = sys.stderr.isatty()
        temporary = out.with_name(out.name + ".part")
        try:
            with temporary.open("wb") as stream:
                exports.WRITERS[format](content, stream, self._progress if show else None)
        except ValidationError as error:
            temporary.unlink(missing_ok=True)
            raise CommandError(" ".join(error.messages)) from error
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        temporary.replace(out)
        services.record_export(actor=None, compilation=compilation, format=format, content=content)
        if show:
            sys.stderr.write("\n")
        self.stdout.write(
            _("%(title)s: %(n)d entries written to %(out)s.")
            % {"title": compilation.title, "n": len(content["entries"]), "out": out}
        )

    def _progress(self, done, total):
        sys.stderr.write(f"\r{done}/{total}")
