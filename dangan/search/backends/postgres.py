"""PostgreSQL full text: the analyzer's terms as a ``tsvector``, a GIN index, ``ts_rank_cd``.

PostgreSQL here has no Chinese parser (zhparser, pg_bigm), and its own parser would split our
terms by locale rules. So the tsvector is written as a literal (``'王伟':3B``) and queries are
cast to ``tsquery`` directly: neither passes through a text-search configuration, and both
engines see exactly the analyzer's terms.

Columns become weights: identifiers A, description B, page text C, single characters and
facets D. Positions are kept for phrases (``<->``); PostgreSQL caps them at 16,383, so a phrase
deep inside a very long record is found by its words but not as a phrase.
"""

from django.db import transaction

from ..analyzer import Document
from .base import SqlBackend, render

WEIGHT = {"exact": "A", "meta": "B", "pages": "C", "chars": "D", "facets": "D"}
MAX_POSITION = 16383
MAX_POSITIONS_PER_TERM = 255


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def to_tsvector(document: Document) -> str:
    """The document as a ``tsvector`` literal, columns weighted, positions for phrases."""
    positions: dict[str, list[str]] = {}
    position = 0
    for column, weight in WEIGHT.items():
        position += 1  # a gap, so that no phrase runs from one column into the next
        for term in getattr(document, column):
            position += 1
            found = positions.setdefault(term, [])
            if len(found) < MAX_POSITIONS_PER_TERM:
                found.append(f"{min(position, MAX_POSITION)}{weight}")
    return " ".join(f"{_quote(term)}:{','.join(p)}" for term, p in positions.items())


def to_tsquery(node, *, weights: str = "") -> str:
    """A query tree as ``tsquery`` text; ``weights`` ("AB") restricts it to those columns."""
    suffix = f":{weights}" if weights else ""

    def term(t):
        return _quote(t.text) + (f":*{weights}" if t.prefix else suffix)

    return render(
        node,
        term=term,
        phrase=lambda p: "(" + " <-> ".join(_quote(t) + suffix for t in p.terms) + ")",
        all_sep=" & ",
        any_sep=" | ",
    )


class PostgresBackend(SqlBackend):
    name = "postgresql"

    def ensure_schema(self) -> None:
        with self._cursor() as cursor:
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS search_document ("
                " record_id bigint PRIMARY KEY, tsv tsvector NOT NULL,"
                " stamp timestamptz, indexed_at timestamptz)"
            )
            cursor.execute(
                "CREATE INDEX IF NOT EXISTS search_document_tsv ON search_document USING gin (tsv)"
            )

    def drop_schema(self) -> None:
        with self._cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS search_document")

    def write(self, documents) -> None:
        if not documents:
            return
        with transaction.atomic(using=self.connection.alias), self._cursor() as cursor:
            cursor.executemany(
                "INSERT INTO search_document (record_id, tsv, stamp, indexed_at) VALUES "
                "(%s, %s::tsvector, (SELECT updated_at FROM catalogue_record WHERE id = %s), now())"
                " ON CONFLICT (record_id) DO UPDATE SET tsv = excluded.tsv,"
                " stamp = excluded.stamp, indexed_at = excluded.indexed_at",
                [(d.record_id, to_tsvector(d), d.record_id) for d in documents],
            )

    def remove(self, record_ids) -> None:
        with self._cursor() as cursor:
            cursor.execute(
                "DELETE FROM search_document WHERE record_id = ANY(%s)", [list(record_ids)]
            )

    def _query(self, node, within, *, description_only=False) -> str:
        query = to_tsquery(node, weights="AB" if description_only else "")
        return query if within is None else f"({query}) & {to_tsquery(within)}"

    def _more_than(self, cursor, query, n) -> bool:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM search_document"
            " WHERE tsv @@ CAST(%s AS tsquery) LIMIT %s) AS found",
            [query, n + 1],
        )
        return cursor.fetchone()[0] > n

    def _ranked(self, cursor, query, limit):
        cursor.execute(
            "SELECT record_id, ts_rank_cd(tsv, q) AS score"
            " FROM search_document, CAST(%s AS tsquery) AS q"
            " WHERE tsv @@ q ORDER BY score DESC, record_id DESC LIMIT %s",
            [query, limit],
        )
        return [(pk, float(score)) for pk, score in cursor.fetchall()]

    def _newest(self, cursor, query, limit):
        cursor.execute(
            "SELECT record_id FROM search_document WHERE tsv @@ CAST(%s AS tsquery)"
            " ORDER BY record_id DESC LIMIT %s",
            [query, limit],
        )
        return [row[0] for row in cursor.fetchall()]

    def start_rebuild(self) -> None:
        self.ensure_schema()
        with self._cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS search_document_tsv")
            cursor.execute("TRUNCATE search_document")

    def finish_rebuild(self) -> None:
        with self._cursor() as cursor:
            cursor.execute(
                "CREATE INDEX IF NOT EXISTS search_document_tsv ON search_document USING gin (tsv)"
            )
            cursor.execute("ANALYZE search_document")

    def size_bytes(self) -> int | None:
        with self._cursor() as cursor:
            cursor.execute("SELECT pg_total_relation_size('search_document')")
            return cursor.fetchone()[0]
