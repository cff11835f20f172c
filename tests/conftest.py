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
def english_outside_requests():
    """Messages made outside a request (services, commands) in English, as the tests spell them.

    Pages still answer in the language of the request: zh-Hans unless the browser asks otherwise.
    """
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate limits count in the cache: every test starts with none spent."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def no_slow_page_alerts(settings):
    """A loaded test machine is slow: no test gets a "slow responses" security alert (and its
    audit entry) unless it asks for one (tests/alerts)."""
    settings.DANGAN_ALERT_SLOW_P95_MS = 0


@pytest.fixture(autouse=True)
def copies_made_at_approval(settings):
    """A request's certified copy is made by the worker after the approval commits; a test runs
    inside one transaction that never commits, so the tests of what a copy holds have it made at
    the approval (tests/access/test_copies_in_background.py follows the worker's way)."""
    settings.DANGAN_COPIES_IN_BACKGROUND = False


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is slow on purpose; the tests make many users and test passwords elsewhere."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def scheme(django_db_blocker):
    """The shipped classification scheme and fonds, as the migrations install them.

    A transactional test empties the tables when it ends, migration data included; putting the
    scheme back (it is idempotent) keeps every test starting from what an installation has.
    """
    from django.apps import apps

    from dangan.catalogue import bureau

    with django_db_blocker.unblock():
        bureau.install(apps)


@pytest.fixture
def fonds(db, scheme):
    return Fonds.objects.get(code="A001")


@pytest.fixture
def category(db, scheme):
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


@pytest.fixture
def exported():
    """The file an export answers with: at once, or, from a background job (``dangan.jobs``),
    once the job ran (here, in the test's process) and its download was taken."""
    import re

    from dangan.jobs.services import run_job

    def body(client, response) -> bytes:
        if response.status_code == 302 and re.search(r"/jobs/\d+/$", response["Location"]):
            job_id = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
            assert run_job(job_id) == "done"
            response = client.get(f"{response['Location']}download/")
        assert response.status_code == 200, response.status_code
        return b"".join(response.streaming_content) if response.streaming else response.content

    return body
