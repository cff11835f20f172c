"""Two counties of one installation: 东台县 (C01) asks, 射阳县 (C02) keeps the person's files."""

import pytest

from dangan.accounts.models import Role, Secrecy, Unit
from dangan.content.services import add_files
from tests.access.conftest import PERSON, scan_png

WIDE = {"max_secrecy": Secrecy.CONFIDENTIAL}


@pytest.fixture(autouse=True)
def content_store(settings, tmp_path):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"


@pytest.fixture
def province(db):
    units = {}
    for code, name in (("C01", "东台县"), ("C02", "射阳县")):
        county = Unit.objects.create(code=code, name=name, kind=Unit.Kind.COUNTY)
        bureau = Unit.objects.create(
            code=f"{code}-B", name=f"{name}人社局", kind=Unit.Kind.BUREAU, parent=county
        )
        units[code] = {"county": county, "bureau": bureau}
    return units


@pytest.fixture
def desk_clerk(make_user, province):
    return make_user(role=Role.READING_CLERK, unit=province["C01"]["bureau"], grants=[WIDE])


@pytest.fixture
def holder(make_user, province):
    """An archivist of the holding county."""
    return make_user(role=Role.ARCHIVIST, unit=province["C02"]["bureau"], grants=[WIDE])


@pytest.fixture
def held(make_record, holder, province):
    """What 射阳县 keeps of the person: make(openness=…) files one record with a scanned page."""

    def make(**values):
        record = make_record(actor=holder, unit=province["C02"]["bureau"], person=PERSON, **values)
        add_files(actor=holder, record=record, files=[("scan.png", scan_png())])
        return record

    return make
