"""Citizens, their records and the loopback single sign-on."""

import pytest

from dangan.accounts.models import Role, Secrecy
from dangan.catalogue.models import Category
from dangan.portal.models import CitizenProfile
from tests.api.conftest import id_number

from .oidc_provider import Provider

LI = {"id_number": id_number("33010219580312004"), "name": "李秀英"}
WANG = {"id_number": id_number("33010219600101005"), "name": "王建国"}


@pytest.fixture
def tx(db, scheme):
    """企业职工退休档案: the retirement files."""
    return Category.objects.get(code="TX")


@pytest.fixture
def make_citizen(make_user):
    def make(*, person=None, **extra):
        user = make_user(role=Role.CITIZEN, grants=(), **extra)
        CitizenProfile.objects.create(
            user=user,
            id_number=person["id_number"] if person else None,
            bound_via=CitizenProfile.Binding.COUNTER if person else "",
        )
        return user

    return make


@pytest.fixture
def archive(make_record, make_user, tx):
    """Li's retirement file (hers, controlled), a file naming her and Wang, Wang's own file,
    a secret file of Li's, an open record of the bureau, and a draft of Li's."""
    writer = make_user(role=Role.ARCHIVIST)
    li_file = make_record(
        person=LI,
        actor=writer,
        category=tx,
        title="李秀英企业职工退休档案",
        secrecy=Secrecy.INTERNAL,
    )
    shared = make_record(person=LI, actor=writer, category=tx, title="李秀英、王建国工龄认定表")
    from dangan.people.services import check_person, resolve_persons

    wang_person = list(resolve_persons(actor=writer, entries=[check_person(**WANG)]).values())[0]
    shared.persons.add(wang_person)
    wang_file = make_record(person=WANG, actor=writer, category=tx, title="王建国企业职工退休档案")
    secret = make_record(
        person=LI, actor=writer, category=tx, title="[李秀英机密材料]", secrecy=Secrecy.SECRET
    )
    open_record = make_record(
        actor=writer,
        title="关于调整企业退休人员基本养老金的通知",
        secrecy=Secrecy.PUBLIC,
        openness="open",
    )
    return {
        "writer": writer,
        "li_file": li_file,
        "shared": shared,
        "wang_file": wang_file,
        "secret": secret,
        "open": open_record,
    }


@pytest.fixture
def provider():
    p = Provider().start()
    yield p
    p.stop()


@pytest.fixture
def sso(provider, settings):
    from dangan.portal import oidc

    settings.DANGAN_OIDC_ISSUER = provider.issuer
    settings.DANGAN_OIDC_CLIENT_ID = provider.client_id
    settings.DANGAN_OIDC_CLIENT_SECRET = provider.client_secret
    oidc._client.cache_clear()
    yield provider
    oidc._client.cache_clear()
