"""The password policy: ten characters, three kinds, none of the passwords everyone picks."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError


@pytest.mark.parametrize(
    "password",
    [
        "woaini1314",
        "Woaini1314!",
        "5201314520",
        "qq123456789",
        "A123456789",
        "zhangwei1988",
        "Zhangwei@1988",
        "1988Liuyang!",
        "Admin@12345",
        "abcdefghijk",  # one kind only
        "short1A!",  # too short
        "1234567890",
    ],
)
def test_common_or_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


@pytest.mark.parametrize("password", ["Dang-an 2024 archive", "县档案室Room 7号", "k8#Pq2vL!xz"])
def test_strong_passwords_are_accepted(password):
    validate_password(password)
