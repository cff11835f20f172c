"""Shared fixtures: the shipped classification scheme (installed by migration), users, records."""

import datetime
import itertools

import pytest

from dangan.accounts.models import Role, Secrecy
from dangan.accounts.services import create_user
from dangan.catalogue.models import Category, Fonds
from dangan.catalogue.services import create_record
from dangan.people.services import check_person, resolve_persons

PASSWORD = "correct horse battery 9"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is slow on purpose; the tests make many users and test passwords elsewhere."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def fonds(db):
    return Fonds.objects.get(code="A001")


@pytest.fixture
def category(db):
    """The unemployment-custody category (失业人员托管档案), a person-file category."""
    return Category.objects.get(code="SYTG")


@pytest.fixture
def make_user(db):
    counter = itertools.count(1)

    def make(*, role=Role.ARCHIVIST, grants=({"max_secrecy": Secrecy.CONFIDENTIAL},), **extra):
        return create_user(
            actor=None,
            username=f"user{next(counter)}",
            password=PASSWORD,
            role=role,
            grants=list(grants),
            **extra,
        )

    return make


@pytest.fixture
def archivist(make_user):
    """An archivist with rights on every fonds and category up to 机密."""
    return make_user()


@pytest.fixture
def make_record(fonds, category):
    counter = itertools.count(1)

    def make(*, person=None, actor=None, category=category, **values):
        n = next(counter)
        values = {
            "title": f"[测试档案{n}]",
            "year": 2001,
            "date": datetime.date(2001, 5, 1),
            "responsible": "县人社局",
            "openness": "controlled",
            **values,
        }
        persons = []
        if person is not None:
            persons = list(resolve_persons(actor=actor, entries=[check_person(**person)]).values())
        return create_record(
            actor=actor,
            fonds=values.pop("fonds", fonds),
            category=category,
            values=values,
            persons=persons,
        )

    return make


@pytest.fixture
def logged_in(client):
    """Log ``user`` into the test client and return it."""

    def login(user):
        client.force_login(user)
        return client

    return login
