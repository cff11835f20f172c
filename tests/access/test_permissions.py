"""The access pages × every role × objects inside and outside the caller's grants.

Every page of the app is asked for by every role (and a visitor) with a grant on one fonds and
category only. Requests, loans and certificates of the record outside that grant answer 404,
403 or a redirect to the log-in, and no list shows its code, title, request or certificate
number or borrower. The public /verify/ pages show a certificate only to who has its code.
"""

import pytest

from dangan.access import services
from dangan.accounts.models import Role, Secrecy
from dangan.catalogue.models import Category, Fonds
from dangan.content.services import add_files
from tests.access.conftest import scan_png
from tests.api.conftest import id_number

pytestmark = pytest.mark.django_db

ROLES = [*Role, None]
OUT_TITLE = "[越权不可见档案]"
OUT_BORROWER = "越权借阅人"


@pytest.fixture
def world(make_record, make_user, records):
    keeper = make_user(role=Role.ARCHIVIST, grants=({"max_secrecy": Secrecy.CONFIDENTIAL},))
    # Nobody decides their own request: a second archivist approves the keeper's.
    approver = make_user(role=Role.ARCHIVIST, grants=({"max_secrecy": Secrecy.CONFIDENTIAL},))
    other = Fonds.objects.create(code="B002", name="县就业服务中心")
    inside = records["open"]
    outside = make_record(
        actor=keeper,
        fonds=other,
        category=Category.objects.get(code="TX"),
        title=OUT_TITLE,
        openness="controlled",
    )
    add_files(actor=keeper, record=outside, files=[("scan.png", scan_png())])
    made = {}
    for scope, record in (("in", inside), ("out", outside)):
        req = services.submit_request(requester=keeper, record=record)
        if req.state == "submitted":
            services.approve_request(actor=approver, access_request=req)
            req.refresh_from_db()
        loan = services.lend(
            actor=keeper,
            record=record,
            borrower_name=OUT_BORROWER if scope == "out" else "可见借阅人",
            purpose="work",
        )
        visit = services.register_visit(
            actor=keeper,
            visitor_name="来访者",
            id_number=id_number("36042119620315001"),
            purpose="research",
            records=[record],
        )
        made[scope] = {"request": req, "loan": loan, "visit": visit, "cert": req.certificate}
    out = made["out"]
    secrets = [
        outside.archival_code,
        OUT_TITLE,
        out["request"].number,
        out["cert"].number,
        OUT_BORROWER,
    ]
    grant = {
        "fonds": Fonds.objects.get(code="A001"),
        "category": Category.objects.get(code="SYTG"),
        "max_secrecy": Secrecy.CONFIDENTIAL,
    }
    return {"made": made, "secrets": secrets, "grant": grant, "keeper": keeper}


def _urls(made):
    lists = ["/access/", "/access/loans/", "/access/requests/", "/access/register/", "/verify/"]
    for state in ("submitted", "delivered", "refused"):
        lists.append(f"/access/requests/?state={state}")
    details = {}
    for scope, objs in made.items():
        details[scope] = [
            f"/access/requests/{objs['request'].pk}/",
            f"/access/certificates/{objs['cert'].pk}/pdf/",
            services.delivery_url(access_request=objs["request"]),
        ]
    return lists, details


def _text(response) -> str:
    if getattr(response, "streaming", False):
        return ""
    return response.content.decode("utf-8", "replace")


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "visitor")
def test_no_access_page_shows_anything_outside_the_callers_scope(client, make_user, world, role):
    if role is not None:
        client.force_login(make_user(role=role, grants=[world["grant"]]))
    lists, details = _urls(world["made"])
    for url in lists:
        response = client.get(url)
        assert response.status_code != 500, url
        if role is None and not url.startswith("/verify/"):
            assert response.status_code == 302, url
        for secret in world["secrets"]:
            assert secret not in _text(response), (role, url, secret)
    for url in details["out"]:
        response = client.get(url)
        assert response.status_code in (302, 403, 404), (role, url, response.status_code)
    for url in details["in"][:2]:
        response = client.get(url)
        if role in (Role.ARCHIVIST, Role.READING_CLERK, Role.LEADER):
            assert response.status_code == 200, (role, url)
        else:
            assert response.status_code in (302, 403, 404), (role, url, response.status_code)


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "visitor")
def test_nobody_else_can_decide_or_return_outside_their_scope(client, make_user, world, role):
    if role is not None:
        client.force_login(make_user(role=role, grants=[world["grant"]]))
    out = world["made"]["out"]
    answers = [
        client.post(
            f"/access/requests/{out['request'].pk}/", {"decision": "refuse", "reason": "x"}
        ),
        client.post(f"/access/loans/{out['loan'].pk}/return/"),
        client.post("/access/certificates/issue/", {"record": world["secrets"][0]}),
    ]
    for answer in answers:
        assert answer.status_code in (302, 403, 404)
    out["loan"].refresh_from_db()
    assert out["loan"].returned_at is None
    from dangan.access.models import Certificate

    assert Certificate.objects.filter(record=out["cert"].record).count() == 1


def test_the_verify_page_of_any_certificate_is_public_by_its_code(client, world):
    cert = world["made"]["out"]["cert"]
    page = client.get(f"/verify/{cert.code}/")
    assert page.status_code == 200
    assert cert.number in page.content.decode()
    other = cert.code[:-1] + ("x" if cert.code[-1] != "x" else "y")
    assert client.get(f"/verify/{other}/").status_code == 404
