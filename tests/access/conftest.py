"""Access fixtures: a local content store, the desk's staff, a citizen, and records at each
openness and secrecy level, each with one scanned page."""

import io

import pytest
from PIL import Image, ImageDraw

from dangan.accounts.models import Role, Secrecy
from dangan.content.services import add_files
from tests.api.conftest import id_number

PERSON = {"id_number": id_number("11010119800101123"), "name": "张伟"}


def scan_png() -> io.BytesIO:
    image = Image.new("L", (600, 800), 255)
    ImageDraw.Draw(image).rectangle((50, 50, 550, 120), outline=0, width=3)
    data = io.BytesIO()
    image.save(data, "PNG")
    data.seek(0)
    return data


@pytest.fixture(autouse=True)
def content_store(settings, tmp_path):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"


@pytest.fixture
def clerk(make_user):
    return make_user(role=Role.READING_CLERK, first_name="李", last_name="接待")


@pytest.fixture
def leader(make_user):
    return make_user(role=Role.LEADER)


@pytest.fixture
def citizen(make_user):
    return make_user(role=Role.CITIZEN, grants=(), first_name="", last_name="")


@pytest.fixture
def unit_clerk(make_user):
    return make_user(role=Role.UNIT_CLERK, grants=({"max_secrecy": Secrecy.INTERNAL},))


@pytest.fixture
def records(make_record, archivist):
    """One record for each rule: open, controlled, secret; each with a scanned page."""
    made = {
        "open": make_record(
            actor=archivist, openness="open", secrecy=Secrecy.INTERNAL, person=PERSON
        ),
        "controlled": make_record(actor=archivist, openness="controlled", person=PERSON),
        "secret": make_record(actor=archivist, openness="controlled", secrecy=Secrecy.SECRET),
    }
    for record in made.values():
        add_files(actor=archivist, record=record, files=[("scan.png", scan_png())])
    return made
