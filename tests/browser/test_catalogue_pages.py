"""A clerk's walk through the catalogue in a real browser."""

import pytest
from playwright.sync_api import expect
from stdnum.cn import ric

from dangan.catalogue.models import Category

pytestmark = pytest.mark.browser

WAN = "36042119620315001" + ric.calc_check_digit("36042119620315001" + "0")


def test_browse_filter_open_record_and_person_then_switch_language(staff_page, make_record):
    tx = Category.objects.get(code="TX")
    make_record(title="萬平德失业人员托管档案", person={"id_number": WAN, "name": "萬平德"})
    make_record(
        title="万平德企业职工退休档案", category=tx, person={"id_number": WAN, "name": "万平德"}
    )
    make_record(title="其他托管档案")
    page = staff_page

    page.goto("/catalogue/")
    assert page.locator("table.records tbody tr[data-record]").count() == 3

    page.click("aside.tree li[data-category=TX] a")
    page.wait_for_url(f"**category={tx.pk}**")
    rows = page.locator("table.records tbody tr[data-record]")
    assert rows.count() == 1
    assert "万平德企业职工退休档案" in rows.first.inner_text()
    assert WAN not in page.content()

    rows.first.get_by_role("link", name="万平德企业职工退休档案").click()
    page.wait_for_url("**/catalogue/*/")
    assert page.locator("dd.archival-code").inner_text().startswith("A001-TX")

    page.locator("ul.persons a").first.click()
    page.wait_for_url("**/people/*/")
    assert page.locator("dd.id-number").inner_text() == WAN
    groups = page.locator("section.category-group")
    assert sorted(groups.evaluate_all("els => els.map(e => e.dataset.category)")) == ["SYTG", "TX"]

    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.select_option("form.lang select[name=language]", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")  # no eval: the CSP forbids it
    assert page.locator("dd.id-number").inner_text() == WAN  # still on the person page


def test_login_form_refuses_a_wrong_password(page, archivist):
    page.goto("/catalogue/")
    page.wait_for_url("**/login/**")
    page.fill("input[name=username]", archivist.username)
    page.fill("input[name=password]", "wrong")
    page.click("form:has(input[name=password]) button[type=submit]")
    assert page.locator("section.login p.error").is_visible()
    assert "/login/" in page.url
