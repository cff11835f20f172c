import shutil

import pytest

from tests.samples import REGISTER as SAMPLE

#: Rows of the sample whose ID numbers have a wrong check digit (checked by hand with stdnum).
SAMPLE_BAD_ROWS = {12, 17, 35, 60}
SAMPLE_DATA_ROWS = 60


@pytest.fixture
def sample(tmp_path):
    """A copy of the sample messy register (title row, 15-digit and full-width IDs, 共计 row)."""
    path = tmp_path / SAMPLE.name
    shutil.copyfile(SAMPLE, path)
    return path


# --- Hand-over fixtures -----------------------------------------------------------------------
@pytest.fixture
def town(db):
    from dangan.accounts.models import Unit

    return Unit.objects.get_or_create(
        code="T01", defaults={"name": "城关镇社保所", "kind": Unit.Kind.TOWN}
    )[0]


@pytest.fixture
def town_clerk(make_user, town):
    from dangan.accounts.models import Role

    return make_user(role=Role.TOWN_CLERK, unit=town, grants=())


@pytest.fixture
def content_dir(settings, tmp_path):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    settings.CONTENT_FSYNC = False


@pytest.fixture
def scan():
    """A small JPEG 'scan' whose pixels depend on ``n`` (different bytes, different digests)."""
    import io

    from PIL import Image

    def make(n=1) -> bytes:
        image = Image.new("RGB", (40, 30), (255 - n * 7 % 255, n * 13 % 255, 90))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80)
        return out.getvalue()

    return make


@pytest.fixture
def id_number():
    import itertools

    from stdnum.cn import ric

    serial = itertools.count(301)

    def make():
        body = f"320925198503{next(serial) % 28 + 1:02d}{next(serial) % 1000:03d}"
        return body + ric.calc_check_digit(body + "0")

    return make
