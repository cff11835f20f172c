"""What every answer tells the browser: a strict Content-Security-Policy, no framing, no
sniffing, no referrer to other sites; cookies out of reach of scripts."""

import re
from pathlib import Path

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2] / "dangan"


def test_pages_carry_a_strict_content_security_policy(client, archivist):
    client.force_login(archivist)
    answer = client.get("/catalogue/")
    policy = answer["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert answer["X-Frame-Options"] == "DENY"
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["Referrer-Policy"] == "same-origin"
    assert "camera=()" in answer["Permissions-Policy"]
    assert "no-store" in answer["Cache-Control"]


def test_cookies_are_http_only_and_same_site(client, archivist):
    answer = client.get("/login/")
    csrf = answer.cookies["csrftoken"]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"
    client.force_login(archivist)
    session = client.get("/catalogue/").cookies.get("sessionid") or client.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"
    assert answer.status_code == 200


def test_https_settings_follow_dangan_https(monkeypatch):
    """With DANGAN_HTTPS the cookies are Secure and HSTS is sent (settings read at start)."""
    import importlib

    import dangan.settings as settings_module

    monkeypatch.setenv("DANGAN_HTTPS", "true")
    monkeypatch.setenv("DANGAN_BEHIND_PROXY", "true")
    fresh = importlib.reload(settings_module)
    try:
        assert fresh.SESSION_COOKIE_SECURE and fresh.CSRF_COOKIE_SECURE
        assert fresh.SECURE_HSTS_SECONDS >= 365 * 24 * 3600
        assert fresh.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    finally:
        monkeypatch.delenv("DANGAN_HTTPS")
        monkeypatch.delenv("DANGAN_BEHIND_PROXY")
        importlib.reload(settings_module)


def test_no_template_holds_inline_script_or_style():
    """The policy forbids them; this keeps templates from quietly relying on them."""
    offenders = []
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=\"|\son[a-z]+=\"", re.IGNORECASE
    )
    for template in ROOT.glob("**/templates/**/*.html"):
        for match in inline.finditer(template.read_text(encoding="utf-8")):
            if 'type="application/json"' in match.group(0):
                continue  # data for a script, not a script
            offenders.append(f"{template.relative_to(ROOT)}: {match.group(0)}")
    assert offenders == []


@override_settings(DEBUG=False)
def test_errors_show_no_details(client, archivist):
    client.force_login(archivist)
    answer = client.get("/catalogue/999999/")
    assert answer.status_code == 404
    page = answer.content.decode()
    assert "Traceback" not in page and "Http404" not in page


def test_a_server_error_page_has_no_stack_trace(client, archivist, settings):
    from django.urls import path

    def boom(request):
        raise RuntimeError("secret detail 110101198001011234")

    urlconf = type("urls", (), {"urlpatterns": [path("boom/", boom)], "handler500": None})
    settings.ROOT_URLCONF = urlconf
    client.raise_request_exception = False
    answer = client.get("/boom/")
    assert answer.status_code == 500
    page = answer.content.decode()
    assert "secret detail" not in page and "Traceback" not in page and "<h1>" in page


def test_a_request_larger_than_the_limit_is_refused_before_reading(client, archivist, settings):
    settings.DANGAN_MAX_UPLOAD_BYTES = 1000
    client.force_login(archivist)
    answer = client.post(
        "/content/records/1/upload/", data=b"x" * 2000, content_type="application/octet-stream"
    )
    assert answer.status_code == 413


def test_an_unknown_api_address_answers_problem_json(client, archivist):
    client.force_login(archivist)
    answer = client.get("/api/v1/records/not-a-number/")
    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["code"] == "not_found"


def test_a_nul_character_in_the_query_is_a_bad_request(client, archivist):
    client.force_login(archivist)
    assert client.get("/api/v1/records/?fonds=A%00B").status_code == 400
    assert client.get("/catalogue/?q=%00").status_code == 400
