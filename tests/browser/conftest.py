"""Browser tests: a real Chromium driven through Playwright against pytest-django's live server.

Fixtures:

* ``browser`` — one headless Chromium (``/usr/bin/chromium``) for the whole session.
* ``page`` — a fresh browser context and page per test, with ``base_url`` set to the live server.
* ``staff_page`` — ``page`` logged in as ``archivist`` through the real login form.
* ``login(user)`` — log any user in through the form, with the second factor (set up on the
  first log-in, as a person would, from the key the page shows); returns a page.

When a test fails, a screenshot of every page it opened is written to
``$DANGAN_DATA_DIR/screenshots/<test name>-<n>.png``.

Without ``/usr/bin/chromium`` the browser tests are skipped, unless ``CI`` is set: then they fail.
"""

import os
import re
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import PASSWORD

# Playwright's sync API runs an event loop in this thread; Django would then refuse ORM calls
# from fixtures and tests ("async-unsafe"). The live server runs in its own thread anyway.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000
_SHARED = {}


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def _keep_migrated_data(transactional_db, scheme):
    """Live-server tests run in a transactional database that the previous test emptied; the
    ``scheme`` fixture puts back what the migrations installed (bureau, fonds A001, categories)."""


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing and CI is set")
        pytest.skip(f"{CHROMIUM} is missing")
    if "browser" in _SHARED:
        # This fixture imported by a test module elsewhere (tests/content): one Playwright per
        # process, so hand out the Chromium already running.
        yield _SHARED["browser"]
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        _SHARED["browser"] = chromium
        try:
            yield chromium
        finally:
            _SHARED.pop("browser", None)
            chromium.close()


@pytest.fixture
def new_page(browser, live_server, request):
    """A factory of pages on fresh contexts (separate cookies), closed after the test."""
    contexts = []

    def make(*, locale="zh-CN"):
        context = browser.new_context(base_url=live_server.url, locale=locale)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        directory = Path(settings.DATA_DIR) / "screenshots"
        directory.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        for n, context in enumerate(contexts):
            for m, page in enumerate(context.pages):
                try:
                    page.screenshot(path=str(directory / f"{name}-{n}-{m}.png"), full_page=True)
                except Exception:  # noqa: BLE001 - a failed screenshot must not hide the failure
                    pass
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def second_factor_code(user, page) -> str:
    """The code a person would read off their authenticator app: from the key shown on the
    set-up page, or from the device already set up (the next step if this one was used)."""
    from dangan.accounts import twofactor
    from dangan.accounts.models import TwoFactorDevice

    if "/login/enrol/" in page.url:
        secret = page.inner_text("code.secret").replace(" ", "")
        return twofactor.current_code(secret)
    device = TwoFactorDevice.objects.get(user=user)
    # A person who used a code moments ago (log-in, then signing) waits for the app's next code;
    # so does the test, when the next unused step is beyond the drift the server accepts.
    while device.last_counter + 1 > twofactor.counter_at() + twofactor.DRIFT_STEPS:
        time.sleep(1)
    return twofactor.code_for(device.secret, max(twofactor.counter_at(), device.last_counter + 1))


@pytest.fixture
def login(new_page):
    """Log ``user`` in through the real login form on a new page and return the page."""

    def log_in(user, *, password=PASSWORD):
        page = new_page()
        page.goto("/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("form:has(input[name=password]) button[type=submit]")
        page.wait_for_url(
            lambda url: "/login/" not in url or "/login/verify/" in url or "/login/enrol/" in url
        )
        if "/login/" in page.url:  # staff: the second factor, set up on the first log-in
            page.fill("input[name=code]", second_factor_code(user, page))
            page.click("form:has(input[name=code]) button[type=submit]")
            page.wait_for_url(lambda url: "/login/" not in url)
        return page

    return log_in


@pytest.fixture
def staff_page(login, archivist):
    """A page logged in as ``archivist`` (rights on every category up to 机密), on the catalogue."""
    return login(archivist)
