"""Log-in through the provincial single sign-on: a real OpenID Connect provider on loopback
(``oidc_provider.Provider``), the portal's real client talking HTTP to it."""

import pytest
import requests
from joserfc.jwk import RSAKey

from dangan.accounts.models import Role, User
from dangan.audit.models import AuditEvent
from dangan.portal.models import CitizenProfile

from .conftest import LI

pytestmark = pytest.mark.django_db


def _sign_on(client, provider, **claims):
    """Walk the browser's part of the flow; the answer of our callback."""
    provider.claims = claims
    start = client.get("/portal/login/sso/")
    assert start.status_code == 302
    at_provider = requests.get(start["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302
    back = at_provider.headers["Location"]
    assert back.startswith("http://testserver/portal/login/sso/callback/?")
    return client.get(back.removeprefix("http://testserver"))


def test_sign_on_logs_in_a_citizen_bound_to_the_verified_number(client, sso, archive):
    answer = _sign_on(client, sso, sub="p-001", name=LI["name"], id_number=LI["id_number"])
    assert answer.status_code == 302 and answer["Location"] == "/portal/my/"
    profile = CitizenProfile.objects.get(oidc_subject="p-001")
    assert profile.user.role == Role.CITIZEN
    assert not profile.user.has_usable_password()
    assert profile.id_number == LI["id_number"]
    assert profile.bound_via == CitizenProfile.Binding.SSO
    page = client.get("/portal/my/").content.decode()
    assert archive["li_file"].archival_code in page
    assert archive["wang_file"].archival_code not in page


def test_the_flow_uses_pkce_and_a_secret(client, sso, archive):
    _sign_on(client, sso, sub="p-002")
    (form,) = sso.token_requests
    assert len(form["code_verifier"]) >= 43
    assert "client_secret" not in form  # sent in the Authorization header (client_secret_basic)


def test_the_second_sign_on_finds_the_same_account(client, sso, archive):
    _sign_on(client, sso, sub="p-003", id_number=LI["id_number"])
    client.post("/portal/logout/")
    _sign_on(client, sso, sub="p-003", id_number=LI["id_number"])
    assert User.objects.filter(role=Role.CITIZEN).count() == 1


def test_without_a_verified_number_the_account_sees_nothing(client, sso, archive):
    _sign_on(client, sso, sub="p-004", name="某人")
    page = client.get("/portal/my/").content.decode()
    assert archive["li_file"].archival_code not in page
    assert not CitizenProfile.objects.get(oidc_subject="p-004").is_bound


def test_the_number_claim_name_is_configurable(client, sso, archive, settings):
    settings.DANGAN_OIDC_ID_NUMBER_CLAIM = "certNo"
    _sign_on(client, sso, sub="p-005", certNo=LI["id_number"])
    assert CitizenProfile.objects.get(oidc_subject="p-005").id_number == LI["id_number"]


def test_a_counter_bound_account_is_joined_not_doubled(client, sso, archive, make_citizen):
    local = make_citizen(person=LI)
    _sign_on(client, sso, sub="p-006", id_number=LI["id_number"])
    assert CitizenProfile.objects.get(user=local).oidc_subject == "p-006"
    assert User.objects.filter(role=Role.CITIZEN).count() == 1


@pytest.mark.parametrize(
    "forge",
    [
        lambda c: {**c, "aud": "another-client"},
        lambda c: {**c, "iss": "http://127.0.0.1:1"},
        lambda c: {**c, "nonce": "replayed"},
        lambda c: {**c, "exp": c["iat"] - 600},
    ],
    ids=["audience", "issuer", "nonce", "expired"],
)
def test_a_token_that_does_not_verify_logs_nobody_in(client, sso, archive, forge):
    sso.tamper = forge
    answer = _sign_on(client, sso, sub="p-007", id_number=LI["id_number"])
    assert answer.status_code == 400
    assert "_auth_user_id" not in client.session
    assert not CitizenProfile.objects.filter(oidc_subject="p-007").exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).exists()


def test_a_token_signed_by_another_key_logs_nobody_in(client, sso, archive):
    sso.sign_with = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    answer = _sign_on(client, sso, sub="p-008", id_number=LI["id_number"])
    assert answer.status_code == 400
    assert "_auth_user_id" not in client.session


def test_a_callback_with_a_foreign_state_is_refused(client, sso, archive):
    client.get("/portal/login/sso/")
    answer = client.get("/portal/login/sso/callback/?code=abc&state=not-ours")
    assert answer.status_code == 400
    assert "_auth_user_id" not in client.session


def test_a_wrong_client_secret_logs_nobody_in(client, sso, archive, settings):
    from dangan.portal import oidc

    settings.DANGAN_OIDC_CLIENT_SECRET = "wrong"
    oidc._client.cache_clear()
    answer = _sign_on(client, sso, sub="p-009")
    assert answer.status_code == 400


def test_without_configuration_there_is_no_sign_on(client, db):
    assert client.get("/portal/login/sso/").status_code == 404
    assert client.get("/portal/login/sso/callback/").status_code == 404
