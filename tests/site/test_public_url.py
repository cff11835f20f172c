"""`dangan run` warns when certificates would point to a loopback address while it serves on
another one."""

from dangan.site.management.commands.run import public_url_warnings


def test_a_loopback_public_url_is_warned_about_when_serving_on_all_addresses():
    assert public_url_warnings("0.0.0.0:8000", "http://localhost:8000")
    assert public_url_warnings("192.0.2.10:8000", "http://127.0.0.1:8000")


def test_no_warning_when_serving_on_loopback_or_with_a_real_public_url():
    assert public_url_warnings("127.0.0.1:8000", "http://localhost:8000") == []
    assert public_url_warnings("0.0.0.0:8000", "https://dangan.example.gov.cn") == []
