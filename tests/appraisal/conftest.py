"""Appraisal fixtures: expired records with content and a person, a committee, a leader."""

import datetime
import io
import os

import pytest

from dangan.accounts.models import Role
from dangan.content.services import add_files
from dangan.content.stores import get_store
from tests.api.conftest import id_number

PERSON = {"id_number": id_number("11010119800101123"), "name": "张伟"}


def jpeg(size=2048) -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + os.urandom(size)


@pytest.fixture(autouse=True)
def content_store(settings, tmp_path):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    return get_store()


@pytest.fixture
def leader(make_user):
    return make_user(role=Role.LEADER)


@pytest.fixture
def member(make_user):
    """A second archivist on the committee."""
    return make_user()


@pytest.fixture
def expired(make_record, archivist):
    """A record of 2001 kept 10 years: expired since 1 January 2012; two pages, one person."""

    def make(**values):
        values.setdefault("retention", "D10")
        values.setdefault("year", 2001)
        values.setdefault("date", datetime.date(values["year"], 5, 1))
        values.setdefault("person", PERSON)
        record = make_record(**values)
        add_files(
            actor=archivist,
            record=record,
            files=[("p1.jpg", io.BytesIO(jpeg())), ("p2.jpg", io.BytesIO(jpeg()))],
        )
        return record

    return make
