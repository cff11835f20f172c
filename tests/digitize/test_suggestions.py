import pytest

from dangan.digitize.suggestions import compare_with_record, suggest_metadata


def test_id_number_name_and_dates_are_suggested_from_the_scanned_page(sample_pages):
    found = suggest_metadata(sample_pages["SYTG-00001"])
    assert [n.number for n in found.id_numbers] == ["320925194304016802"]
    assert found.names == ["罗凤秀"]
    dates = {d.label: d.date.iso for d in found.dates}
    assert dates["出生日期"] == "1943-04-01"
    assert dates["参加工作时间"] == "1959-09"
    assert "1993-04-12" in dates.values()


def test_traditional_page_gives_its_name_and_number(sample_pages):
    found = suggest_metadata(sample_pages["SYTG-00003"])
    assert found.names == ["江英秀"]
    assert [n.number for n in found.id_numbers] == ["320925194912010594"]


def test_number_with_a_wrong_check_digit_is_not_suggested():
    found = suggest_metadata("公民身份号码：320925194304016803\n编号：320925194401267072")
    assert [n.number for n in found.id_numbers] == ["320925194401267072"]


def test_fifteen_digit_number_only_after_an_id_label():
    assert suggest_metadata("档号 320981550404885").id_numbers == []
    found = suggest_metadata("身份证号：３２０９８１ ５５０４０４ ８８５")
    assert [n.number for n in found.id_numbers] == ["320981195504048855"]


@pytest.mark.parametrize(
    "line, name",
    [
        ("姓名:王小明性别:男", "王小明"),
        ("姓 名  李 华  出生年月 1958.03", "李华"),
        ("职工姓名：欧阳春兰民族：汉", "欧阳春兰"),
    ],
)
def test_name_stops_where_the_next_label_begins(line, name):
    assert suggest_metadata(line).names == [name]


def test_dates_in_figures_and_in_chinese_numerals_keep_their_precision():
    found = suggest_metadata("出生年月：1958年3月\n填表日期 一九九三年四月十二日\n调入 1993.4.12")
    assert [(d.label, d.date.iso) for d in found.dates] == [
        ("出生年月", "1958-03"),
        ("填表日期", "1993-04-12"),
        ("调入", "1993-04-12"),
    ]


def test_scanned_number_that_differs_from_the_catalogued_person_is_flagged(make_record):
    record = make_record(person={"id_number": "320925194304016802", "name": "罗凤秀"})
    same = compare_with_record(record=record, id_numbers=["320925194304016802"])
    assert same.matched == ["320925194304016802"] and not same.differs
    other = compare_with_record(record=record, id_numbers=["320925194401267072"])
    assert other.differs and other.missing == ["320925194304016802"]
    (message,) = other.messages()
    assert "320925********7072" in message and "320925194401267072" not in message
