"""A small archive seen by four kinds of caller: an archivist with every right, an archivist
granted only the category TX, a system administrator (三员: never reads records) and nobody."""

import pytest
from rest_framework.test import APIClient
from stdnum.cn import ric

from dangan.accounts.models import Role, Secrecy
from dangan.catalogue.models import Category, Fonds


def id_number(body17: str) -> str:
    """A valid 18-digit ID number: ``body17`` (region, birth date, sequence) and its check digit."""
    return body17 + ric.calc_check_digit(body17 + "0")


ZHANG = {"id_number": id_number("11010119800101123"), "name": "张伟"}
WAN = {"id_number": id_number("11010119750615002"), "name": "萬平德"}


@pytest.fixture
def tx(db):
    """The enterprise-retirement category (企业职工退休档案)."""
    return Category.objects.get(code="TX")


@pytest.fixture
def other_fonds(db):
    return Fonds.objects.create(code="B002", name="县就业服务中心")


@pytest.fixture
def archive(make_record, category, tx, other_fonds):
    """Records: Zhang's SYTG file; Wan's SYTG and TX files; a SYTG record in the other fonds."""
    return {
        "zhang_sytg": make_record(person=ZHANG, year=2001),
        "wan_sytg": make_record(person=WAN, year=2003),
        "wan_tx": make_record(person=WAN, category=tx, year=2003, title="[萬平德退休档案]"),
        "other_sytg": make_record(fonds=other_fonds, year=2005),
    }


@pytest.fixture
def callers(make_user, tx):
    return {
        "archivist": make_user(),
        "tx_only": make_user(grants=[{"category": tx, "max_secrecy": Secrecy.CONFIDENTIAL}]),
        "system_admin": make_user(role=Role.SYSTEM_ADMIN),
        "anonymous": None,
    }


@pytest.fixture
def api(callers):
    """``api("tx_only")``: a client logged in as that caller (none for "anonymous")."""

    def client_for(name):
        client = APIClient()
        if callers[name] is not None:
            client.force_login(callers[name])
        return client

    return client_for
