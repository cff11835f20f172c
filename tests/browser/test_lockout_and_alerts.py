"""The security administrator's day after someone guessed at a colleague's password: the lock
and its alert are on their pages, they lift the lock and acknowledge the alert with a note, and
the colleague logs in again."""

import pytest

from dangan.accounts.models import Lockout, Role
from dangan.alerts.models import SecurityAlert
from tests.browser.conftest import second_factor_code
from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def until_lifted(settings):
    settings.DANGAN_LOCKOUT_MINUTES = 0  # the county chose: a lock lasts until it is lifted
    settings.DANGAN_LOGIN_MAX_FAILURES = 5


def test_a_lock_is_seen_lifted_and_its_alert_acknowledged(new_page, login, archivist, make_user):
    security = make_user(role=Role.SECURITY_ADMIN, grants=())
    outsider = new_page()
    outsider.goto("/login/")
    for n in range(5):
        outsider.fill("input[name=username]", archivist.username)
        outsider.fill("input[name=password]", f"guess {n}")
        with outsider.expect_navigation():
            outsider.click("form:has(input[name=password]) button[type=submit]")
    assert "锁定" in outsider.inner_text("p.error")  # the outsider is told, in Chinese

    desk = login(security)
    desk.goto("/alerts/")
    row = desk.locator("tr.alert-failed_logins_account")
    assert archivist.username in row.inner_text()
    desk.goto("/admin/accounts/lockout/")
    assert archivist.username in desk.inner_text("#result_list")
    desk.check("#result_list input.action-select")
    desk.select_option("select[name=action]", "lift")
    desk.click("button[name=index]")
    desk.wait_for_selector("ul.messagelist")
    assert Lockout.objects.get().lifted_by == security

    desk.goto("/alerts/")
    desk.fill("tr.alert-failed_logins_account textarea[name=note]", "同事本人确认不是他，已提醒。")
    desk.click("tr.alert-failed_logins_account button[type=submit]")
    desk.wait_for_selector("ul.messages")
    alert = SecurityAlert.objects.get(kind="failed_logins_account")
    assert alert.acknowledged_by == security and alert.note.startswith("同事本人")

    colleague = new_page()
    colleague.goto("/login/")
    colleague.fill("input[name=username]", archivist.username)
    colleague.fill("input[name=password]", PASSWORD)
    colleague.click("form:has(input[name=password]) button[type=submit]")
    colleague.wait_for_url("**/login/enrol/")
    colleague.fill("input[name=code]", second_factor_code(archivist, colleague))
    colleague.click("form:has(input[name=code]) button[type=submit]")
    colleague.wait_for_url(lambda url: "/login/" not in url)
    assert "5" in colleague.inner_text("ul.messages")  # told of the failed attempts
