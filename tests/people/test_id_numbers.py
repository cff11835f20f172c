import datetime

import pytest
from django.core.exceptions import ValidationError

from dangan.people.id_numbers import mask, normalize, upgrade_15


def test_fifteen_digit_number_is_upgraded_with_century_and_check_digit():
    checked = normalize("320981550404885")
    assert checked.number == "320981195504048855"
    assert checked.old_number == "320981550404885"
    assert checked.number_15 == "320981550404885"
    assert upgrade_15("320981550404885") == checked.number


def test_full_width_digits_spaces_and_lower_case_x_are_normalised():
    assert normalize("３２０９０２１９４１０４１９０３５０").number == "320902194104190350"
    assert normalize(" 320981 1942 1130 075x ").number == "32098119421130075X"


def test_birth_date_and_sex_are_derived():
    checked = normalize("320925194304016802")
    assert checked.birth_date == datetime.date(1943, 4, 1)
    assert checked.sex == "F"
    assert normalize("320925194401267072").sex == "M"


@pytest.mark.parametrize(
    "raw, code",
    [
        ("", "id_missing"),
        ("32092519430401680", "id_format"),
        ("320925194304016803", "id_checksum"),
        ("320925194313016804", "id_birth_date"),
    ],
)
def test_bad_numbers_are_refused_with_a_code(raw, code):
    with pytest.raises(ValidationError) as error:
        normalize(raw)
    assert error.value.code == code


def test_masked_number_shows_region_and_last_four_only():
    assert mask("320925194304016802") == "320925********6802"
