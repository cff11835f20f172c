"""A citizen bound to an ID number asks on the portal for their files kept in another county,
follows the request and downloads the certificate; an unbound citizen cannot ask."""

import pytest
from django.urls import reverse

from dangan.accounts.models import Role
from dangan.portal.models import CitizenProfile
from dangan.remote.models import RemoteRequest
from tests.access.conftest import PERSON

pytestmark = pytest.mark.django_db


def _citizen(make_user, id_number=None):
    user = make_user(role=Role.CITIZEN, grants=())
    CitizenProfile.objects.create(
        user=user,
        id_number=id_number,
        bound_via=CitizenProfile.Binding.COUNTER if id_number else "",
    )
    return user


def test_a_citizen_asks_another_county_and_downloads_the_certificate(
    make_user, held, client, province
):
    held(openness="open", secrecy=1)
    citizen = _citizen(make_user, PERSON["id_number"])
    client.force_login(citizen)
    page = client.get(reverse("portal:remote-requests")).content.decode()
    assert "射阳县" in page and "东台县" in page  # every county may be asked
    answer = client.post(
        reverse("portal:remote-requests"),
        {"holder": "C02", "purpose": "personal", "reason": "养老保险认证"},
        follow=True,
    )
    req = RemoteRequest.objects.get()
    assert req.citizen and req.id_number == PERSON["id_number"] and req.state == "delivered"
    body = answer.content.decode()
    assert req.number in body
    copy = req.certificates.get()
    download = client.get(reverse("remote:copy-pdf", args=[copy.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    # Another citizen cannot download it; nor does the desk list show a citizen's request.
    client.force_login(_citizen(make_user, None))
    assert client.get(reverse("remote:copy-pdf", args=[copy.pk])).status_code == 404


def test_an_unbound_citizen_is_told_to_have_the_id_card_checked(make_user, client, province):
    client.force_login(_citizen(make_user, None))
    page = client.get(reverse("portal:remote-requests"), HTTP_ACCEPT_LANGUAGE="en")
    assert "ID card checked" in page.content.decode()
    client.post(reverse("portal:remote-requests"), {"holder": "C02", "purpose": "personal"})
    assert not RemoteRequest.objects.exists()
