"""Classifying incoming files: learned from the instance's own catalogue, from the category scheme
on a fresh instance; nothing proposed when unsure, for empty or garbage text, or when the
catalogue has one category only."""

import json

import pytest
from django.core.management import call_command

from dangan.assist import classifier
from dangan.catalogue.models import Category

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.DANGAN_CLASSIFY_THRESHOLD = 0.5


def test_a_fresh_instance_classifies_from_the_category_scheme(scheme, capsys):
    model = classifier.train()
    assert model.source == "scheme"
    assert len(model.categories) >= 10
    proposal = classifier.classify(title="王建国企业职工退休审批表")
    assert proposal.category == "TX"
    assert proposal.retention == "D100"  # the retention schedule's 退休审批表
    assert proposal.confidence >= 0.5
    call_command("classify", "失业人员档案托管登记表", json=True)
    shown = json.loads(capsys.readouterr().out)
    assert set(shown) == {"category", "retention", "confidence"}
    assert shown["category"] == "SYTG"


def test_the_model_learns_the_catalogue_and_is_kept_in_the_data_dir(
    make_record, archivist, scheme, settings
):
    ws = Category.objects.get(code="WS")
    for n in range(6):
        make_record(
            actor=archivist,
            category=ws,
            title=f"关于开展第{n}批就业见习基地认定工作的通知",
            retention="D30",
        )
        make_record(actor=archivist, title=f"托管人员第{n}季度缴费花名册", retention="D10")
    model = classifier.train()
    assert model.source == "catalogue" and model.samples == 12
    assert classifier.model_path().is_file()
    assert classifier.model_path().parent.parent == settings.DATA_DIR
    assert classifier.classify(title="关于开展就业见习基地复核工作的通知").category == "WS"
    assert classifier.classify(title="托管人员缴费花名册（补）").category == "SYTG"


@pytest.mark.parametrize("text", ["", "   ", "!!! ??? ……", "xq zv kk", "的的的的", "囧囧囧 龘龘"])
def test_empty_or_garbage_text_gets_no_proposal(scheme, text):
    classifier.train()
    proposal = classifier.classify(text=text)
    assert proposal.category is None
    assert proposal.as_json()["category"] is None


def test_a_catalogue_of_one_category_says_so_and_proposes_nothing(
    make_record, archivist, scheme, capsys
):
    for n in range(3):
        make_record(actor=archivist, title=f"托管人员第{n}季度缴费花名册")
    call_command("classify", train=True)
    assert "one category only" in capsys.readouterr().err
    assert classifier.classify(title="托管人员缴费花名册").category is None
    call_command("classify", "托管人员缴费花名册", json=True)
    assert json.loads(capsys.readouterr().out)["category"] is None


def test_below_the_threshold_nothing_is_proposed(scheme, settings):
    classifier.train()
    settings.DANGAN_CLASSIFY_THRESHOLD = 1.01
    proposal = classifier.classify(title="王建国企业职工退休审批表")
    assert proposal.category is None and proposal.confidence > 0


def test_the_weekly_round_trains_scans_and_queues_the_next(scheme, settings):
    import datetime

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from dangan.assist.tasks import ROUND_TASK, assist_round_task

    DBTaskResult.objects.filter(task_path=ROUND_TASK).delete()
    result = assist_round_task.call()
    assert result["samples"] > 0 and set(result["duplicates"]) == {"persons", "records", "pages"}
    assert classifier.model_path().is_file()
    (queued,) = DBTaskResult.objects.filter(task_path=ROUND_TASK, status="READY")
    assert queued.run_after > timezone.now() + datetime.timedelta(days=6)


def test_hand_over_items_are_classified_in_one_pass_through_the_intake_hook(scheme):
    from dangan.intake.selectors import classify_files

    classifier.train()
    shown = classify_files(["王建国企业职工退休审批表 县社保中心", "", "囧囧 龘龘"])
    assert [p["category"] for p in shown] == ["TX", None, None]
    assert shown[0]["confidence"] >= 0.5
