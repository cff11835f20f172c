"""``dangan import-catalogue``: the operator's command."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dangan.catalogue.models import Record

from .conftest import SAMPLE_BAD_ROWS, SAMPLE_DATA_ROWS


def command(*args):
    out = io.StringIO()
    call_command("import_catalogue", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_json_output_is_one_object_with_the_outcome(sample, db):
    data = json.loads(command(str(sample), "--category", "SYTG", "--json"))

    assert data["created"] == SAMPLE_DATA_ROWS - len(SAMPLE_BAD_ROWS)
    assert (data["updated"], data["unchanged"], data["duplicates"]) == (0, 0, [])
    assert {e["row"] for e in data["errors"]} == SAMPLE_BAD_ROWS
    assert set(data["errors"][0]) == {"row", "column", "code", "message"}
    assert data["mapping"]["公民身份号码"] == "id_number"
    assert data["mapping"]["编号"] is None
    assert data["skipped"][0]["row"] == 64


def test_category_by_chinese_name_and_dry_run(sample, db):
    out = command(str(sample), "--category", "失业人员托管档案", "--dry-run")

    assert "公民身份号码 → id_number" in out
    assert Record.objects.count() == 0


def test_mapping_file_is_used(tmp_path, db):
    register = tmp_path / "r.csv"
    register.write_text(
        "人员,号码,转入,卷号\n罗凤秀,320925194304016802,1959.09,K-1\n", encoding="utf-8"
    )
    mapping = tmp_path / "m.json"
    mapping.write_text(
        json.dumps(
            {"人员": "name", "号码": "id_number", "转入": "custody_date", "卷号": "legacy_number"}
        ),
        encoding="utf-8",
    )

    data = json.loads(
        command(str(register), "--category", "SYTG", "--mapping", str(mapping), "--json")
    )

    assert data["created"] == 1
    assert Record.objects.get().legacy_number == "K-1"


def test_unreadable_file_exits_non_zero(tmp_path, db):
    path = tmp_path / "nothing.xlsx"
    path.write_bytes(b"not a workbook")

    with pytest.raises(CommandError) as caught:
        command(str(path), "--category", "SYTG", "--json")

    assert caught.value.returncode == 1  # refused input; 2 is argparse's usage error


def test_unknown_category_exits_non_zero(sample, db):
    with pytest.raises(CommandError):
        command(str(sample), "--category", "NOPE")
