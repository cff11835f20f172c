"""Beyond the best matches: a broad search goes on block by block from a cursor (keyset)."""

import re

import pytest
from django.urls import reverse

from dangan.accounts.models import Secrecy
from dangan.catalogue.models import Category
from dangan.core.keyset import BadCursor
from dangan.search.selectors import search

URL = reverse("search:search")


@pytest.fixture
def broad(make_record, scanned_page, monkeypatch):
    """Blocks of three: eleven records whose page holds the phrase, one whose title does, and
    one that holds its words out of order."""
    monkeypatch.setattr("dangan.search.selectors.CANDIDATES", 3)
    paged = []
    for n in range(11):
        record = make_record(title=f"[材料{n}]")
        scanned_page(record, position=1, text="经审核同意办理档案托管")
        paged.append(record.pk)
    titled = make_record(title="经审核同意的托管协议")
    scattered = make_record(title="[材料]")
    scanned_page(scattered, position=1, text="经审定，再审核，同意办理")
    return {"paged": paged, "titled": titled.pk, "scattered": scattered.pk}


def _blocks(user, query, **kwargs):
    """Every block of ``query``'s matches, following the cursors to the end."""
    blocks, after = [], None
    while True:
        results = search(user, query, after=after, page_size=100, **kwargs)
        blocks.append([hit.record.pk for hit in results.hits])
        after = results.next_cursor
        if after is None:
            return blocks
        assert len(blocks) < 20, "the cursors go round in a circle"


def test_the_blocks_after_the_best_hold_every_other_match_once_newest_first(archivist, broad):
    blocks = _blocks(archivist, "经审核")

    first, *rest = blocks
    assert first[0] == broad["titled"]  # the description's match, ranked first
    found = [pk for block in blocks for pk in block]
    assert sorted(found) == sorted([broad["titled"], *broad["paged"]])  # each once, all
    assert broad["scattered"] not in found
    following = [pk for block in rest for pk in block]
    assert following == sorted(following, reverse=True)
    assert all(len(block) == 3 for block in blocks[:-1])


def test_a_block_beyond_the_best_keeps_to_the_users_rights(
    broad, make_record, scanned_page, make_user
):
    pensions = Category.objects.get(code="TX")
    hidden = make_record(title="[退休材料]", category=pensions)
    scanned_page(hidden, position=1, text="经审核同意办理退休手续")
    custody = Category.objects.get(code="SYTG")
    clerk = make_user(grants=[{"category": custody, "max_secrecy": Secrecy.CONFIDENTIAL}])

    found = [pk for block in _blocks(clerk, "经审核") for pk in block]

    assert sorted(found) == sorted([broad["titled"], *broad["paged"]])


def test_a_cursor_edited_by_hand_is_refused(archivist, broad):
    for cursor in ("nonsense", "eyJvIjpbIi1wayJdLCJrIjpbMV0sImIiOmZhbHNlfQ"):
        with pytest.raises(BadCursor):
            search(archivist, "经审核", after=cursor)


def test_the_page_links_to_the_further_matches_and_back(archivist, broad, logged_in):
    client = logged_in(archivist)

    first = client.get(URL, {"q": "经审核"}).content.decode()
    more = re.search(r'class="more-matches" href="\?([^"]+)"', first)
    assert more, "the last page of the best matches links to the further ones"
    further = client.get(URL + "?" + more.group(1).replace("&amp;", "&")).content.decode()

    shown = {int(pk) for pk in re.findall(r'data-record="(\d+)"', further)}
    assert shown and shown <= set(broad["paged"])
    assert "first-matches" in further
    edited = client.get(URL, {"q": "经审核", "after": "nonsense"})
    assert edited.status_code == 200
    assert re.findall(r'data-record="(\d+)"', edited.content.decode())
