"""Headers mapped to fields: the names registers really use, and mapping files."""

import pytest
from django.core.exceptions import ValidationError

from dangan.intake import mapping


@pytest.mark.parametrize(
    "header, target",
    [
        ("姓 名", "name"),
        ("姓名：", "name"),
        ("職工姓名", "name"),
        ("身份证号", "id_number"),
        ("身份证号码", "id_number"),
        ("公民身份号码", "id_number"),
        ("公民身份號碼", "id_number"),
        ("ＩＤ", None),
        ("出生年月", "birth_date"),
        ("性　别", "sex"),
        ("档案号", "legacy_number"),
        ("档案编号", "legacy_number"),
        ("原档号", "legacy_number"),
        ("盒号", "box_number"),
        ("题名", "title"),
        ("责任者", "responsible"),
        ("备注", "remarks"),
        ("保管期限", "retention"),
        ("文号", "doc_number"),
        ("页数", "page_count"),
        ("托管时间", "meta.custody_date"),
        ("原单位", "meta.work_unit"),
        ("编号", None),
        ("序号", None),
    ],
)
def test_header_variants_map_to_fields(category, header, target):
    assert mapping.suggest([header], category) == {header: target}


def test_second_column_for_the_same_field_is_not_mapped(category):
    assert mapping.suggest(["身份证号", "公民身份号码"], category) == {
        "身份证号": "id_number",
        "公民身份号码": None,
    }


def test_mapping_file_accepts_keys_labels_and_header_names(tmp_path, category):
    path = tmp_path / "mapping.json"
    path.write_text(
        '{"人员": "name", "号码": "身份证号", "转入": "custody_date", "序": null}', encoding="utf-8"
    )

    checked = mapping.check(mapping.load(path), ["人员", "号码", "转入", "序"], category)

    assert checked == {"人员": "name", "号码": "id_number", "转入": "meta.custody_date", "序": None}


def test_unknown_target_in_mapping_file_is_refused(category):
    with pytest.raises(ValidationError) as caught:
        mapping.check({"A": "salary"}, ["A"], category)
    assert caught.value.code == "mapping_target_unknown"


@pytest.mark.parametrize(
    "header, target",
    [
        ("单位", "meta.work_unit"),  # a part of the label 工作单位
        ("工作单位名称", "meta.work_unit"),
        ("时间", None),  # 托管时间 or 参加工作时间: the clerk chooses
    ],
)
def test_a_header_maps_by_a_part_of_one_fields_name(category, header, target):
    assert mapping.suggest([header], category) == {header: target}


def test_a_header_known_by_name_wins_over_one_matched_by_a_part(category):
    assert mapping.suggest(["单位", "原工作单位"], category) == {
        "单位": None,
        "原工作单位": "meta.work_unit",
    }
