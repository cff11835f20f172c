"""Register rows the classifier puts in another category: proposed in the dry run with their
confidence, moved only when the archivist ticks them (or moves them all), never on their own."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dangan.assist import classifier
from dangan.catalogue.models import Record
from dangan.intake.models import ImportJob

pytestmark = pytest.mark.django_db

REGISTER = """档案号,题名,日期,责任者
W-1,关于印发文书档案管理办法的通知,2015-03-02,县人社局办公室
W-2,关于做好2015年就业见习工作的通知,2015-04-01,县人社局办公室
W-3,劳动争议仲裁案卷 仲裁裁决书 申请人 被申请人 案号,2015-05-06,县劳动人事争议仲裁委员会
W-4,劳动争议仲裁案卷 仲裁调解书 申请人 被申请人 案号,2015-06-07,县劳动人事争议仲裁委员会
"""


@pytest.fixture(autouse=True)
def fresh_model(settings, tmp_path, scheme):
    settings.DATA_DIR = tmp_path
    settings.DANGAN_CLASSIFY_THRESHOLD = 0.3
    classifier.train()  # from the scheme: a fresh instance


def dry_run(client):
    client.post(
        reverse("intake:import-start"),
        {
            "file": SimpleUploadedFile("register.csv", REGISTER.encode()),
            "category": "WS",
            "fonds": "A001",
        },
    )
    job = ImportJob.objects.get()
    url = reverse("intake:import-mapping", args=[job.pk])
    columns = {h: f.value() for h, f in client.get(url).context["form"].columns()}
    fields = {f"col_{i}": v or "" for i, v in enumerate(columns.values())}
    return url, fields, client.post(url, {**fields, "dry_run": "1"})


def test_the_dry_run_proposes_and_only_ticked_rows_move(archivist, logged_in):
    client = logged_in(archivist)
    url, fields, dry = dry_run(client)
    proposals = dry.context["report"]["proposals"]
    assert [(p["row"], p["category"]) for p in proposals] == [(4, "ZC"), (5, "ZC")]
    assert all(p["confidence"] >= 0.3 for p in proposals)
    text = dry.content.decode()
    assert 'name="move" value="4:ZC"' in text and 'name="move_all"' in text
    assert Record.objects.count() == 0
    # Row 4 ticked, row 5 not: row 5 stays where the archivist chose (never moved silently).
    client.post(url, {**fields, "import": "1", "move": ["4:ZC", "2:JX"]})
    codes = dict(Record.objects.values_list("legacy_number", "category__code"))
    assert codes == {"W-1": "WS", "W-2": "WS", "W-3": "ZC", "W-4": "WS"}
    job = ImportJob.objects.get(category__code="WS")
    assert job.report["moved"][0]["category"] == "ZC" and job.report["moved"][0]["rows"] == [4]


def test_all_proposed_rows_move_at_once(archivist, logged_in):
    client = logged_in(archivist)
    url, fields, _dry = dry_run(client)
    client.post(url, {**fields, "move_all": "1"})
    codes = dict(Record.objects.values_list("legacy_number", "category__code"))
    assert codes == {"W-1": "WS", "W-2": "WS", "W-3": "ZC", "W-4": "ZC"}


def test_rows_moved_by_the_archivist_move_in_a_background_import_too(
    archivist, logged_in, settings
):
    """Above DANGAN_IMPORT_BACKGROUND_ROWS the worker imports: the ticked rows go with it."""
    from dangan.jobs.services import run_job

    settings.DANGAN_IMPORT_BACKGROUND_ROWS = 2
    client = logged_in(archivist)
    url, fields, _dry = dry_run(client)
    client.post(url, {**fields, "import": "1", "move": ["4:ZC"]})
    assert Record.objects.count() == 0  # queued for the worker
    job = ImportJob.objects.get(category__code="WS")
    assert run_job(job.background_id) == "done"
    codes = dict(Record.objects.values_list("legacy_number", "category__code"))
    assert codes == {"W-1": "WS", "W-2": "WS", "W-3": "ZC", "W-4": "WS"}
