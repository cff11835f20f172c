"""The PostgreSQL backend: its tsvector literals and its rebuild (COPY, several processes)."""

import pytest
from django.db import connection

from dangan.catalogue.models import Record
from dangan.search.analyzer import Document
from dangan.search.backends import get_backend
from dangan.search.backends.postgres import MAX_POSITION, WEIGHT, tsvectors
from dangan.search.services import build_documents, rebuild_index, reindex_records

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the PostgreSQL backend only"
)


def _walked(document, columns):
    """The specification: each term in turn, a gap between columns, at most 255 positions a
    term (one for single characters), none past MAX_POSITION (a new term there: the last)."""
    positions, position = {}, 0
    for column in columns:
        most = 1 if column == "chars" else 255
        position += 1
        for term in getattr(document, column):
            position += 1
            found = positions.get(term)
            if found is None:
                positions[term] = [f"{min(position, MAX_POSITION)}{WEIGHT[column]}"]
            elif position <= MAX_POSITION and len(found) < most:
                found.append(f"{position}{WEIGHT[column]}")
    return positions


def _parsed(literal):
    entries = {}
    for entry in filter(None, literal.split(" ")):
        term, _, at = entry.rpartition(":")
        entries[term.strip("'").replace("''", "'").replace("\\\\", "\\")] = at.split(",")
    return entries


@pytest.mark.parametrize(
    "document",
    [
        Document(
            record_id=1,
            exact=["_n王伟", "_i320925196803041011"],
            meta=["关于", "于发", "2001"],
            pages=["王伟", "伟同", "同志"] * 300,
            chars=list("关于发王伟同志") * 200,
            facets=["_ffa1", "_fsle1", "_fsle2"],
        ),
        Document(record_id=2, meta=["ab", "cd"] * 9000, chars=list("甲乙") * 9000),
        Document(record_id=3, exact=["_no'neil", "_na\\b"], facets=["_fy2001"]),
        Document(record_id=4, meta=["_fy2001"], facets=["_fy2001"]),
        Document(record_id=5),
    ],
)
def test_tsvectors_hold_the_positions_of_walking_the_terms_one_by_one(document):
    everything, described = tsvectors(document)

    assert _parsed(everything) == _walked(document, tuple(WEIGHT))
    assert _parsed(described) == _walked(document, ("exact", "meta", "facets"))


def _entries():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT record_id, tsv::text, described::text, stamp FROM search_document"
            " ORDER BY record_id"
        )
        return cursor.fetchall()


@on_postgresql
def test_a_rebuild_replaces_an_entry_a_clerk_wrote_meanwhile(make_record):
    record = make_record(title="关于发放高温补贴的通知")
    before = _entries()
    Record.objects.filter(pk=record.pk).update(title="关于发放取暖补贴的通知")

    get_backend().write_bulk(build_documents(Record.objects.filter(pk=record.pk)))

    (entry,) = _entries()
    assert entry != before[0] and "取暖" in entry[1]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_rebuild_by_several_processes_writes_what_the_services_write(make_record):
    ids = {make_record(title=f"第{n}号工伤认定决定书", remarks="同意办理").pk for n in range(7)}
    reindex_records(Record.objects.values_list("pk", flat=True))
    # The index is no model: entries an earlier test left behind are dropped by the rebuild.
    written = [entry for entry in _entries() if entry[0] in ids]

    try:
        summary = rebuild_index(chunk=2, workers=2)

        assert summary["workers"] == 2 and summary["records"] == 7
        assert _entries() == written
    finally:  # the index is no model: the database's flush after the test leaves it be
        get_backend().remove([entry[0] for entry in written])


@on_postgresql
def test_the_newest_matches_of_a_common_word_are_found_band_by_band(make_record, monkeypatch):
    """With bands of two records, the newest matches come from the newest bands, in order,
    however the matches are spread: some bands hold none, a phrase holds in only some."""
    from dangan.search import analyzer
    from dangan.search import services as search_services
    from dangan.search.backends import postgres

    monkeypatch.setattr(search_services, "ID_BAND", 2)
    monkeypatch.setattr(postgres, "ID_BAND", 2)
    titles = ["申请办理退休", "退休申请", "其他", "其他", "办理申请", "申请办理失业登记"] * 4
    records = [make_record(title=title) for title in titles]
    reindex_records([r.pk for r in records])
    backend = get_backend()
    words = analyzer.parse_query("申请").node
    phrase = analyzer.parse_query("申请办理").node
    with connection.cursor() as cursor:
        for node, wanted in ((words, "申请"), (phrase, "申请办理")):
            expected = [r.pk for r in reversed(records) if wanted in r.title]
            for limit in (1, 3, 7, 100):
                found = backend._newest(cursor, backend._query(node, None), limit)
                assert found == expected[:limit]


@on_postgresql
def test_a_broad_phrase_holds_its_order_in_simplified_and_traditional_pages_block_by_block(
    make_record, scanned_page, archivist, monkeypatch
):
    """A broad phrase (more matches than one block) is checked in order on every block:
    traditional pages are found by the simplified phrase and the reverse, scattered words not."""
    from dangan.search.selectors import search

    monkeypatch.setattr("dangan.search.selectors.CANDIDATES", 3)
    texts = ["經審核同意辦理檔案托管", "经审核同意办理档案托管", "经审定，再审核，同意办理"] * 3
    for n, text in enumerate(texts):
        scanned_page(make_record(title=f"[托管材料{n}]"), position=1, text=text)

    def found(query):
        results = search(archivist, query, page_size=100)
        after, pks = results.next_cursor, [hit.record.pk for hit in results.hits]
        while after:
            results = search(archivist, query, page_size=100, after=after)
            after = results.next_cursor
            pks += [hit.record.pk for hit in results.hits]
        return sorted(pks)

    wanted = sorted(Record.objects.filter(title__startswith="[托管").values_list("pk", flat=True))
    holding = [pk for pk, text in zip(wanted, texts, strict=True) if "审定" not in text]
    assert found("经审核") == found("經審核") == holding
