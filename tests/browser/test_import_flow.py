"""An archivist imports the messy sample register through the pages, then finds a person in it."""

import shutil

import pytest

from tests.samples import REGISTER as SAMPLE

pytestmark = pytest.mark.browser


def test_archivist_imports_register_and_finds_a_person(staff_page, tmp_path):
    register = tmp_path / "托管花名册.xlsx"
    shutil.copyfile(SAMPLE, register)
    page = staff_page

    page.goto("/intake/import/")
    page.set_input_files("input[name=file]", str(register))
    page.select_option("select[name=category]", "SYTG")
    page.click("form.import-upload button[type=submit]")

    page.wait_for_selector("form.import-mapping")
    assert page.input_value("select[name=col_3]") == "id_number"  # 公民身份号码
    page.click("button[name=dry_run]")
    page.wait_for_selector("#report .created")
    assert page.inner_text("#report .created") == "56"
    assert "校验码" in page.inner_text("table.import-errors")  # in words, not the code id_checksum

    page.click("button[name=import]")
    page.wait_for_url("**/result/")
    assert page.inner_text("#report .created") == "56"
    rows = page.locator("table.import-errors tbody tr td:first-child").all_inner_texts()
    assert sorted(int(r) for r in rows) == [12, 17, 35, 60]

    page.goto("/people/")
    page.fill("form.filters input[name=q]", "万平德")  # written 萬平德 in the register
    page.press("form.filters input[name=q]", "Enter")
    page.wait_for_selector("table.persons")
    page.click("table.persons a")
    assert "萬平德失业人员托管档案" in page.content()
