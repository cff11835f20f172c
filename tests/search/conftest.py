"""Search fixtures: valid ID numbers, and pages whose OCR is done (as the pipeline leaves them)."""

import hashlib
import itertools

import pytest
from stdnum.cn import ric

from dangan.content.models import Blob, Page
from dangan.digitize.models import PageProcessing
from dangan.search.services import reindex_records

_serial = itertools.count(101)


@pytest.fixture
def id_number():
    """A fresh valid 18-digit number born in 1968 (so it has a 15-digit form)."""

    def make(birth="19680304"):
        body = f"320925{birth}{next(_serial) % 1000:03d}"
        return body + ric.calc_check_digit(body + "0")

    return make


@pytest.fixture
def scanned_page(db):
    """Give a record an OCR'd page, the way the digitization pipeline finishes one."""
    counter = itertools.count(1)

    def make(record, *, position, text):
        n = next(counter)
        blob = Blob.objects.create(
            sha256=hashlib.sha256(f"{record.pk}-{n}".encode()).hexdigest(),
            sm3="0" * 64,
            size=1,
            mime="image/tiff",
            format_name="TIFF",
        )
        page = Page.objects.create(
            record=record, blob=blob, position=position, filename=f"{position}.tif"
        )
        PageProcessing.objects.create(page=page, state=PageProcessing.State.DONE, text=text)
        reindex_records([record.pk])
        return page

    return make
