"""A list's ``limit`` and ``offset`` of any size give a page, never a server error."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/categories/", "/api/v1/fonds/"])
def test_huge_limit_and_offset_give_a_page(client, archivist, path, scheme):
    client.force_login(archivist)
    huge = "1" + "0" * 30
    page = client.get(path, {"limit": huge})
    assert page.status_code == 200 and len(page.json()["results"]) <= 1000
    past = client.get(path, {"offset": huge})
    assert past.status_code == 200 and past.json()["results"] == []


@pytest.mark.parametrize("ordering", ["new", "code", "year", "-year", "title"])
def test_next_links_page_by_cursor_through_every_record_once(
    client, archivist, make_record, ordering
):
    import datetime

    for n in range(7):
        make_record(
            title=f"[接口{n % 2}]", year=2000 + n % 3, date=datetime.date(2000 + n % 3, 1, 1)
        )
    client.force_login(archivist)
    whole = client.get("/api/v1/records/", {"ordering": ordering, "limit": 100}).json()
    answer = client.get("/api/v1/records/", {"ordering": ordering, "limit": 3}).json()
    assert answer["count"] == 7 and answer["previous"] is None
    pages = [answer]
    while answer["next"]:
        assert "cursor=" in answer["next"] and "offset=" not in answer["next"]
        answer = client.get(answer["next"]).json()
        pages.append(answer)
    assert [len(p["results"]) for p in pages] == [3, 3, 1]
    assert [r["id"] for p in pages for r in p["results"]] == [r["id"] for r in whole["results"]]
    back = client.get(pages[2]["previous"]).json()
    assert back["results"] == pages[1]["results"]
    assert client.get(back["previous"]).json()["previous"] is None
    # the offset of clients written before cursors still gives its page
    second = client.get("/api/v1/records/", {"ordering": ordering, "limit": 3, "offset": 3}).json()
    assert second["results"] == pages[1]["results"] and second["count"] == 7


def test_a_cursor_edited_by_hand_is_a_400_problem(client, archivist, scheme):
    client.force_login(archivist)
    answer = client.get("/api/v1/records/", {"cursor": "not-a-cursor"})
    assert answer.status_code == 400
    assert "cursor" in answer.json()["errors"] or "cursor" in answer.content.decode()


def test_a_long_list_is_counted_once_not_on_every_page(client, archivist, make_record, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dangan.catalogue import selectors

    monkeypatch.setattr(selectors, "COUNT_AT_ONCE", 2)  # a "long" list: more than 2
    for n in range(4):
        make_record(title=f"[计数{n}]")
    client.force_login(archivist)

    def counts(url, query=None):
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(url, query).json()
        whole = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
        return answer, len(whole)

    first, counted = counts("/api/v1/records/", {"limit": 2})
    assert first["count"] == 4 and counted == 2  # up to 3 rows, then all of them
    second, counted = counts(first["next"])
    assert second["count"] == 4 and counted == 1  # the whole count is kept
    make_record(title="[计数新]")  # a record added since is counted anew
    assert client.get("/api/v1/records/", {"limit": 2}).json()["count"] == 5
