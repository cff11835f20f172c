"""`dangan run` brings a county up from nothing: database, administrator, demo data, worker, web."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from http.cookiejar import CookieJar
from urllib.parse import urlencode

from dangan.accounts import twofactor


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_serves_the_demo_on_an_empty_data_directory(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # the embedded defaults
    env["DANGAN_DATA_DIR"] = str(tmp_path)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dangan.cli",
            "run",
            "--bind",
            f"127.0.0.1:{port}",
            "--demo-persons",
            "10",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # The banner is in the installation's language (Chinese by default): wait for the
        # address, then find the one log-in it names (the password kept beside the data).
        banner = ""
        deadline = time.monotonic() + 120
        while f"127.0.0.1:{port}/" not in banner and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            banner += line
        username, password = "admin", (tmp_path / "admin-password").read_text().strip()
        assert f" {username}" in banner and password in banner, banner
        # The demo users and their password too, once, when they are made.
        demo_password = (tmp_path / "demo-password").read_text().strip()
        assert demo_password in banner and "archivist" in banner, banner
        assert (tmp_path / "dangan.sqlite3").exists()

        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        for _ in range(50):
            try:
                page = opener.open(f"http://127.0.0.1:{port}/login/", timeout=5).read().decode()
                break
            except OSError:
                time.sleep(0.2)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/login/",
            data=urlencode(
                {"username": username, "password": password, "csrfmiddlewaretoken": token}
            ).encode(),
            headers={"Referer": f"http://127.0.0.1:{port}/login/"},
        )
        enrolment = opener.open(request, timeout=10).read().decode()
        # Staff set up the second factor at the first log-in: read the key off the page as a
        # person would type it into an authenticator app, and give the app's code.
        secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', enrolment).group(1)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', enrolment).group(1)
        code = twofactor.current_code(secret.replace(" ", ""))
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/login/enrol/",
            data=urlencode({"code": code, "csrfmiddlewaretoken": token}).encode(),
            headers={"Referer": f"http://127.0.0.1:{port}/login/enrol/"},
        )
        listing = opener.open(request, timeout=10).read().decode()
        assert "A001-" in listing  # demo records with archival codes are listed
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    # A second start does not print the password again (service logs keep what is printed).
    again = subprocess.Popen(
        [sys.executable, "-m", "dangan.cli", "run", "--bind", f"127.0.0.1:{port}", "--no-demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = ""
        deadline = time.monotonic() + 120
        while f"127.0.0.1:{port}/" not in banner and time.monotonic() < deadline:
            line = again.stdout.readline()
            if not line:
                break
            banner += line
        assert f"127.0.0.1:{port}/" in banner and password not in banner, banner
        assert demo_password not in banner and str(tmp_path / "demo-password") in banner
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(timeout=20)
