"""``dangan remote``: requests for files kept by another archive (异地查档), from the console.

    dangan remote ask --peer CODE --id-number N --purpose TEXT --user USERNAME [--json]
    dangan remote inbox [--json]
    dangan remote answer NUMBER --approve|--refuse [--reason TEXT] --user USERNAME [--json]
    dangan remote status NUMBER [--json]
    dangan remote send                     # send the outbox now (the worker does it on its own)

``--peer`` names a peer installation or, within one installation, a county unit's code.
``--purpose`` is a purpose's code (personal, work, …) or free text (then "personal", and the
text is kept as what the files are needed for).
"""

import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dangan.access.models import Purpose
from dangan.accounts.models import User
from dangan.remote import outbox, selectors, services
from dangan.remote.models import RemoteRequest


class Command(BaseCommand):
    help = _("Requests for files kept by another archive: ask, answer, follow, send.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        ask = sub.add_parser("ask", help=_("register a request at this desk"))
        ask.add_argument("--peer", required=True)
        ask.add_argument("--id-number", required=True)
        ask.add_argument("--purpose", default=Purpose.PERSONAL)
        ask.add_argument("--user", required=True)
        ask.add_argument("--json", action="store_true")
        inbox = sub.add_parser("inbox", help=_("requests received"))
        inbox.add_argument("--json", action="store_true")
        answer = sub.add_parser("answer", help=_("approve or refuse a request received"))
        answer.add_argument("number")
        which = answer.add_mutually_exclusive_group(required=True)
        which.add_argument("--approve", action="store_true")
        which.add_argument("--refuse", action="store_true")
        answer.add_argument("--reason", default="")
        answer.add_argument("--user", required=True)
        answer.add_argument("--json", action="store_true")
        status = sub.add_parser("status", help=_("where a request stands"))
        status.add_argument("number")
        status.add_argument("--json", action="store_true")
        send = sub.add_parser("send", help=_("send the outbox now"))
        send.add_argument("--json", action="store_true")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from None
        except RemoteRequest.DoesNotExist:
            raise CommandError(_("No such request.")) from None

    def _user(self, username) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("No user %(name)s.") % {"name": username})
        return user

    def _out(self, as_json: bool, value, text: str):
        if as_json:
            self.stdout.write(json.dumps(value, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(text)

    def _ask(self, *, peer, id_number, purpose, user, **options):
        reason = ""
        if purpose not in Purpose.values:
            purpose, reason = Purpose.PERSONAL, purpose
        req = services.ask(
            actor=self._user(user), holder=peer, id_number=id_number, purpose=purpose, reason=reason
        )
        req.refresh_from_db()
        self._out(options["json"], selectors.status(req.number), req.number)

    def _inbox(self, **options):
        rows = [
            {
                "number": r.number,
                "state": r.state,
                "peer": selectors.peer_code(r, holder_view=True),
                "id_number_masked": r.masked_id_number,
                "asked_by": r.asking_name,
                "received_at": r.received_at.isoformat() if r.received_at else None,
            }
            for r in RemoteRequest.objects.filter(held_here=True).select_related(
                "peer", "asking_county"
            )
        ]
        text = "\n".join(
            f"{r['number']}\t{r['state']}\t{r['peer']}\t{r['id_number_masked']}\t{r['asked_by']}"
            for r in rows
        )
        self._out(options["json"], rows, text or _("No requests received."))

    def _answer(self, *, number, approve, refuse, reason, user, **options):
        actor = self._user(user)
        req = RemoteRequest.objects.get(number=number, held_here=True)
        if approve:
            services.approve(actor=actor, remote_request=req, reason=reason)
        else:
            services.refuse(actor=actor, remote_request=req, reason=reason, none_held=not reason)
        result = selectors.status(number)
        self._out(options["json"], result, f"{number} {result['state']}")

    def _status(self, *, number, **options):
        result = selectors.status(number)
        text = f"{result['number']}\t{result['state']}\t{result['peer']}"
        if "certificate" in result:
            text += f"\t{result['certificate']}\t{result['verify_url']}"
        self._out(options["json"], result, text)

    def _send(self, **options):
        counts = outbox.send_due()
        self._out(
            options["json"],
            counts,
            _("%(sent)d sent, %(failed)d failed, %(waiting)d waiting.") % counts,
        )
