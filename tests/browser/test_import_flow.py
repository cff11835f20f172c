"""An archivist imports the messy sample register through the pages, then finds a person in it."""

import shutil

import pytest

from tests.samples import REGISTER as SAMPLE

pytestmark = pytest.mark.browser


def upload_sample(page, tmp_path):
    """Upload the sample register as 失业人员托管档案, up to its mapping page."""
    register = tmp_path / "托管花名册.xlsx"
    shutil.copyfile(SAMPLE, register)
    page.goto("/intake/import/")
    page.set_input_files("input[name=file]", str(register))
    page.select_option("select[name=category]", "SYTG")
    page.click("form.import-upload button[type=submit]")
    page.wait_for_selector("form.import-mapping")


def test_archivist_imports_register_and_finds_a_person(staff_page, tmp_path):
    page = staff_page
    upload_sample(page, tmp_path)
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


def test_a_large_register_imports_in_the_background_and_the_page_shows_it_through(
    staff_page, tmp_path, settings
):
    """Above DANGAN_IMPORT_BACKGROUND_ROWS the worker imports: the clerk sees the progress page,
    which refreshes by itself and turns into the outcome when the worker is done."""
    from dangan.intake.models import ImportJob
    from dangan.jobs.services import run_job

    settings.DANGAN_IMPORT_BACKGROUND_ROWS = 10
    page = staff_page
    upload_sample(page, tmp_path)
    page.click("button[name=import]")
    page.wait_for_url("**/result/")
    page.wait_for_selector("section.import-progress")
    assert "等待" in page.inner_text("section.import-progress")  # waiting for the worker

    job = ImportJob.objects.get()
    assert run_job(job.background_id) == "done"  # the worker's turn
    page.wait_for_selector("#report .created", timeout=20_000)  # the page refreshed by itself
    assert page.inner_text("#report .created") == "56"
    assert page.locator("section.import-progress").count() == 0
