"""PostgreSQL full text: the analyzer's terms as a ``tsvector``, a GIN index, ``ts_rank_cd``.

PostgreSQL here has no Chinese parser (zhparser, pg_bigm), and its own parser would split our
terms by locale rules. So the tsvector is written as a literal (``'王伟':3B``) and queries are
cast to ``tsquery`` directly: neither passes through a text-search configuration, and both
engines see exactly the analyzer's terms.

Columns become weights: identifiers A, description B, page text C, single characters and
facets D. Positions are kept for phrases (``<->``); PostgreSQL caps them at 16,383, so a phrase
deep inside a very long record is found by its words but not as a phrase.

What makes it fast: a GIN index knows which entries hold a term, but not where, so a phrase
(or a weight) is checked by reading the entry's tsvector, which for a record with pages is
kilobytes out of line (TOAST). A broad phrase on every form would read tens of thousands of
them. So the index is first asked for the phrase's words (which it answers alone), and the
phrase itself is checked only where it matters: for a narrow query's few matches, and for the
newest matches of a broad one until enough are found. The description (identifiers,
description, facets) has its own small tsvector and GIN index, ``described``, so that a broad
query's matches in the description are found without reading page text. The table keeps its
rows narrow (``toast_tuple_target``), so that walking many matches reads few pages.
"""

from dataclasses import dataclass

from django.db import transaction

from ..analyzer import Document
from .base import SqlBackend, render

WEIGHT = {"exact": "A", "meta": "B", "pages": "C", "chars": "D", "facets": "D"}
DESCRIBED = ("exact", "meta", "facets")
MAX_POSITION = 16383
MAX_POSITIONS_PER_TERM = 255
#: A broad phrase is checked on at most this many of the newest entries holding its words,
#: then on all of them at once (slow, but only for a phrase whose words are common and
#: rarely in its order).
PHRASE_CHECKS = 20_000


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def to_tsvector(document: Document, columns=tuple(WEIGHT)) -> str:
    """``columns`` of the document as a ``tsvector`` literal, weighted, with positions."""
    positions: dict[str, list[str]] = {}
    position = 0
    for column in columns:
        weight = WEIGHT[column]
        # Single characters are never part of a phrase: one position each keeps the
        # tsvector (which a phrase check reads whole) about a third smaller.
        most = 1 if column == "chars" else MAX_POSITIONS_PER_TERM
        position += 1  # a gap, so that no phrase runs from one column into the next
        for term in getattr(document, column):
            position += 1
            found = positions.get(term)
            if found is None:  # past the last position, a term keeps one (the last)
                positions[term] = [f"{min(position, MAX_POSITION)}{weight}"]
            elif position <= MAX_POSITION and len(found) < most:
                found.append(f"{position}{weight}")
    return " ".join([f"{_quote(term)}:{','.join(p)}" for term, p in positions.items()])


def to_tsquery(node, *, phrases: bool = True) -> str:
    """A query tree as ``tsquery`` text; without ``phrases``, a phrase's terms need only all
    be there (what the GIN index answers without reading the entries)."""
    return render(
        node,
        term=lambda t: _quote(t.text) + (":*" if t.prefix else ""),
        phrase=lambda p: "(" + (" <-> " if phrases else " & ").join(map(_quote, p.terms)) + ")",
        all_sep=" & ",
        any_sep=" | ",
    )


@dataclass(frozen=True)
class _Query:
    column: str  # "tsv" (everything) or "described"
    text: str  # the tsquery
    words: str  # the same without phrase order: the GIN index answers it alone


class PostgresBackend(SqlBackend):
    name = "postgresql"

    def ensure_schema(self) -> None:
        with self._cursor() as cursor:
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS search_document ("
                " record_id bigint PRIMARY KEY, tsv tsvector NOT NULL,"
                " described tsvector NOT NULL DEFAULT '',"
                " stamp timestamptz, indexed_at timestamptz)"
            )
            cursor.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND table_name = 'search_document' AND column_name = 'described'"
            )
            if cursor.fetchone() is None:  # an index made before ``described``: the entries
                # lack it, so ``dangan reindex --pending`` is to write them again
                cursor.execute(
                    "ALTER TABLE search_document ADD COLUMN described tsvector NOT NULL DEFAULT ''"
                )
                cursor.execute("UPDATE search_document SET stamp = NULL")
            cursor.execute("ALTER TABLE search_document SET (toast_tuple_target = 128)")
            self._create_indexes(cursor)

    def _create_indexes(self, cursor) -> None:
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS search_document_tsv ON search_document USING gin (tsv)"
        )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS search_document_described"
            " ON search_document USING gin (described)"
        )

    def drop_schema(self) -> None:
        with self._cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS search_document")

    def write(self, documents) -> None:
        if not documents:
            return
        with transaction.atomic(using=self.connection.alias), self._cursor() as cursor:
            cursor.executemany(
                "INSERT INTO search_document (record_id, tsv, described, stamp, indexed_at)"
                " VALUES (%s, %s::tsvector, %s::tsvector,"
                " (SELECT updated_at FROM catalogue_record WHERE id = %s), now())"
                " ON CONFLICT (record_id) DO UPDATE SET tsv = excluded.tsv,"
                " described = excluded.described, stamp = excluded.stamp,"
                " indexed_at = excluded.indexed_at",
                [
                    (d.record_id, to_tsvector(d), to_tsvector(d, DESCRIBED), d.record_id)
                    for d in documents
                ],
            )

    def remove(self, record_ids) -> None:
        with self._cursor() as cursor:
            cursor.execute(
                "DELETE FROM search_document WHERE record_id = ANY(%s)", [list(record_ids)]
            )

    def _query(self, node, within, *, description_only=False) -> _Query:
        def narrowed(text):
            return text if within is None else f"({text}) & {to_tsquery(within)}"

        return _Query(
            column="described" if description_only else "tsv",
            text=narrowed(to_tsquery(node)),
            words=narrowed(to_tsquery(node, phrases=False)),
        )

    def _matches(self, cursor, query, *, upto):
        cursor.execute(
            f"SELECT record_id FROM search_document"
            f" WHERE {query.column} @@ CAST(%s AS tsquery) LIMIT %s",
            [query.words, upto + 1],
        )
        return [row[0] for row in cursor.fetchall()]

    def _ranked(self, cursor, query, limit):
        cursor.execute(
            f"SELECT record_id, ts_rank_cd({query.column}, q) AS score"
            f" FROM search_document, CAST(%s AS tsquery) AS q"
            f" WHERE {query.column} @@ q ORDER BY score DESC, record_id DESC LIMIT %s",
            [query.text, limit],
        )
        return [(pk, float(score)) for pk, score in cursor.fetchall()]

    def _newest(self, cursor, query, limit):
        newest = (
            f"SELECT record_id FROM search_document WHERE {query.column} @@ CAST(%s AS tsquery)"
            " ORDER BY record_id DESC LIMIT %s"
        )
        if query.words == query.text:
            cursor.execute(newest, [query.text, limit])
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(newest, [query.words, PHRASE_CHECKS])
        holding = [row[0] for row in cursor.fetchall()]
        found = []
        for start in range(0, len(holding), limit):
            batch = holding[start : start + limit]
            cursor.execute(
                f"SELECT record_id FROM search_document WHERE record_id = ANY(%s)"
                f" AND {query.column} @@ CAST(%s AS tsquery) ORDER BY record_id DESC",
                [batch, query.text],
            )
            found.extend(row[0] for row in cursor.fetchall())
            if len(found) >= limit:
                return found[:limit]
        if len(holding) < PHRASE_CHECKS:
            return found
        cursor.execute(newest, [query.text, limit])
        return [row[0] for row in cursor.fetchall()]

    def start_rebuild(self) -> None:
        self.ensure_schema()
        with self._cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS search_document_tsv")
            cursor.execute("DROP INDEX IF EXISTS search_document_described")
            cursor.execute("TRUNCATE search_document")

    def finish_rebuild(self) -> None:
        with transaction.atomic(using=self.connection.alias), self._cursor() as cursor:
            # GIN builds far faster when it can gather the whole index in memory.
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            self._create_indexes(cursor)
        with self._cursor() as cursor:
            cursor.execute("ANALYZE search_document")

    def size_bytes(self) -> int | None:
        with self._cursor() as cursor:
            cursor.execute("SELECT pg_total_relation_size('search_document')")
            return cursor.fetchone()[0]
