"""``dangan classify --train`` and ``dangan classify TEXT [--json]``: the classifier of incoming
files (自动分类).

``--train`` learns from the catalogue (or, on a fresh instance, from the category scheme) and
keeps the model in the data directory; the worker does it every week. ``TEXT`` (a title, a
responsible party, a page's text) prints the proposal; with ``--json`` an object
``{"category": CODE or null, "retention", "confidence"}``, ``category`` null when unsure."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dangan.assist import classifier


class Command(BaseCommand):
    help = "Train the classifier of incoming files, or classify a text."

    def add_arguments(self, parser):
        parser.add_argument("text", nargs="*", help="the text to classify")
        parser.add_argument("--train", action="store_true", help="learn from the catalogue")
        parser.add_argument("--json", action="store_true", help="a JSON object on stdout")

    def handle(self, *args, **options):
        text = " ".join(options["text"]).strip()
        if options["train"]:
            model = classifier.train()
            summary = {
                "source": model.source,
                "samples": model.samples,
                "categories": len(model.categories),
                "seconds": model.seconds,
                "note": model.note,
            }
            if options["json"] and not text:
                self.stdout.write(json.dumps(summary, ensure_ascii=False))
            else:
                self.stderr.write(
                    _("Trained on %(samples)d samples (%(source)s), %(n)d categories, in %(s)s s.")
                    % {
                        "samples": model.samples,
                        "source": model.source,
                        "n": len(model.categories),
                        "s": model.seconds,
                    }
                )
                if model.note:
                    self.stderr.write(model.note)
            if not text:
                return
        if not text:
            raise CommandError(_("Give the text to classify, or --train."))
        proposal = classifier.classify(text=text)
        if options["json"]:
            self.stdout.write(json.dumps(proposal.as_json(), ensure_ascii=False))
            return
        if proposal.category is None:
            self.stdout.write(proposal.note or _("No proposal."))
            return
        self.stdout.write(
            f"{proposal.category}\t{proposal.retention or ''}\t{proposal.unit or ''}\t"
            f"{proposal.confidence:.2f}"
        )
