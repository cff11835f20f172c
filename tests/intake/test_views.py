"""The import pages: upload, mapping and preview, dry run, import, outcome."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dangan.accounts.models import Role
from dangan.catalogue.models import Record
from dangan.intake.models import ImportJob

from .conftest import SAMPLE_BAD_ROWS, SAMPLE_DATA_ROWS


def upload(client, path, category="SYTG"):
    return client.post(
        reverse("intake:import-start"),
        {
            "file": SimpleUploadedFile(path.name, path.read_bytes()),
            "category": category,
            "fonds": "A001",
        },
    )


def test_archivist_uploads_checks_dry_runs_and_imports(sample, archivist, logged_in):
    client = logged_in(archivist)
    response = upload(client, sample)
    job = ImportJob.objects.get()
    assert response.url == reverse("intake:import-mapping", args=[job.pk])
    assert (settings.DATA_DIR / job.stored_file).is_file()
    assert str(job.stored_file).startswith("imports/")

    page = client.get(response.url)
    assert page.status_code == 200
    preview = page.content.decode().split('class="preview"')[1]
    assert "罗凤秀" in preview
    # A date typed into the spreadsheet is shown as that date, not as midnight of it.
    assert "1959" in preview and "00:00" not in preview
    columns = {h: f.value() for h, f in page.context["form"].columns()}
    assert columns["公民身份号码"] == "id_number" and columns["编号"] == ""

    fields = {f"col_{i}": v or "" for i, v in enumerate(columns.values())}
    dry = client.post(response.url, {**fields, "dry_run": "1"})
    assert dry.status_code == 200 and Record.objects.count() == 0
    report = dry.context["report"]
    assert report["created"] == SAMPLE_DATA_ROWS - len(SAMPLE_BAD_ROWS)
    # The clerk reads what is wrong in words, not the internal code of the check.
    errors = dry.content.decode().split('class="import-errors"')[1].split("</table>")[0]
    assert "wrong check digit" in errors or "校验码" in errors, errors
    assert "id_checksum</" not in errors and "<code>" not in errors

    done = client.post(response.url, {**fields, "import": "1"}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("intake:import-result", args=[job.pk])
    assert Record.objects.count() == SAMPLE_DATA_ROWS - len(SAMPLE_BAD_ROWS)
    html = done.content.decode()
    for row in SAMPLE_BAD_ROWS:
        assert f"<td>{row}</td>" in html


def test_changed_mapping_is_used(sample, archivist, logged_in):
    client = logged_in(archivist)
    url = upload(client, sample).url
    columns = {h: f.value() for h, f in client.get(url).context["form"].columns()}
    columns["原工作单位"] = ""  # not imported this time
    fields = {f"col_{i}": v or "" for i, v in enumerate(columns.values())}

    client.post(url, {**fields, "import": "1"})

    assert "work_unit" not in Record.objects.get(legacy_number="SYTG-00001").metadata


def test_failed_upload_leaves_nothing_behind(tmp_path, archivist, logged_in):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook at all")
    before = set((settings.DATA_DIR / "imports").glob("*"))

    response = upload(logged_in(archivist), bad)

    assert response.status_code == 200 and "file" in response.context["form"].errors
    assert ImportJob.objects.count() == 0
    assert set((settings.DATA_DIR / "imports").glob("*")) == before


def test_too_large_upload_is_refused(sample, archivist, logged_in, settings):
    settings.DANGAN_MAX_REGISTER_BYTES = 100

    response = upload(logged_in(archivist), sample)

    assert "file" in response.context["form"].errors
    assert ImportJob.objects.count() == 0


@pytest.mark.parametrize("role", [Role.READING_CLERK, Role.LEADER])
def test_only_archivists_import(role, make_user, logged_in):
    client = logged_in(make_user(role=role))

    assert client.get(reverse("intake:import-start")).status_code == 403


def test_another_users_upload_is_not_found(sample, archivist, make_user, logged_in):
    url = upload(logged_in(archivist), sample).url
    other = make_user()

    assert logged_in(other).get(url).status_code == 404
