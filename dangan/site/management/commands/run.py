"""``dangan run``: bring the archive up on this machine with its embedded defaults."""

import atexit
import io
import json
import signal
import subprocess
import sys
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from dangan.accounts.services import ensure_demo_admin
from dangan.alerts.services import check_settings
from dangan.catalogue.models import Record

LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}


def public_url_warnings(bind: str, public_url: str) -> list[str]:
    """Certificates carry DANGAN_PUBLIC_URL in their QR code: a loopback address there while we
    serve on another address sends every citizen who scans one to their own phone."""
    host = bind.rpartition(":")[0] or "127.0.0.1"
    public_host = urlsplit(public_url).hostname or ""
    if host in LOOPBACK or public_host not in LOOPBACK:
        return []
    return [
        _(
            "DANGAN_PUBLIC_URL is %(url)s, a loopback address, while Dangan serves on %(bind)s: "
            "certificates would point to the reader's own device. Set DANGAN_PUBLIC_URL to the "
            "address citizens reach (e.g. https://dangan.example.gov.cn)."
        )
        % {"url": public_url, "bind": bind}
    ]


class Command(BaseCommand):
    help = _(
        "Migrate, create the demo administrator and data if empty, start worker and web server."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000", help=_("address:port to serve on"))
        parser.add_argument("--no-demo", action="store_true", help=_("do not load demo data"))
        parser.add_argument(
            "--no-worker", action="store_true", help=_("do not start the background worker here")
        )
        parser.add_argument("--demo-persons", type=int, default=300)

    def handle(self, *args, bind, no_demo, no_worker, demo_persons, **options):
        call_command("migrate", interactive=False, verbosity=0)
        check_settings()  # a security setting changed since the last start is an alert
        password_file = settings.DATA_DIR / "admin-password"
        first_start = not password_file.exists()
        username, password = ensure_demo_admin(password_file)
        demo_users = None
        if not no_demo and not Record.objects.exists():
            self.stdout.write(_("Loading demo data…"))
            out = io.StringIO()
            # The worker started below reads the demo's scanned pages: their OCR here would
            # hold the start back by seconds a page.
            call_command("demo", persons=demo_persons, json=True, read_later=True, stdout=out)
            demo_users = json.loads(out.getvalue())
        if not no_worker:
            worker = subprocess.Popen(
                [sys.executable, "-m", "dangan.cli", "worker", "--queue", "*"]
            )
            atexit.register(worker.terminate)
        # A service manager stops us with SIGTERM: leave through atexit so the worker stops too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        host, _sep, port = bind.rpartition(":")
        # The password is printed at the first start only: service logs keep what is printed.
        if first_start:
            login = _("log in as %(user)s with password %(pw)s") % {
                "user": username,
                "pw": password,
            }
        else:
            login = _("log in as %(user)s (the password is kept in %(file)s)") % {
                "user": username,
                "file": password_file,
            }
        if demo_users:
            # Like the administrator's: printed once, when made; kept in the data directory.
            self.stdout.write(
                _("Demo users: %(users)s — password %(password)s (kept in %(file)s).")
                % {
                    "users": ", ".join(demo_users["users"]),
                    "password": demo_users["password"],
                    "file": demo_users["password_file"],
                }
            )
        elif (settings.DATA_DIR / "demo-password").exists():
            self.stdout.write(
                _("The demo users' password is kept in %(file)s.")
                % {"file": settings.DATA_DIR / "demo-password"}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("Dangan is running at http://%(bind)s/ — %(login)s")
                % {"bind": bind, "login": login}
            )
        )
        for warning in public_url_warnings(bind, settings.DANGAN_PUBLIC_URL):
            self.stdout.write(self.style.WARNING(warning))
        self.stdout.write(
            _("Data directory: %(dir)s. Stop with Ctrl+C.") % {"dir": settings.DATA_DIR}
        )
        from waitress import serve

        from dangan.wsgi import application

        serve(
            application,
            host=host or "127.0.0.1",
            port=int(port),
            threads=8,
            clear_untrusted_proxy_headers=True,
            # Scans and PDFs arrive in hundreds of kilobytes: read them in large pieces and keep
            # a request of up to 4 MB in memory (waitress's 8 kB reads cost a fifth of the
            # server's time on a certificate upload at /verify/).
            recv_bytes=256 * 1024,
            inbuf_overflow=4 * 1024 * 1024,
            connection_limit=1000,
        )
