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

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import groupby, islice

import psycopg
from django.db import IntegrityError, connections, transaction

from ..analyzer import ID_BAND, Document, band_term
from .base import SqlBackend, render

WEIGHT = {"exact": "A", "meta": "B", "pages": "C", "chars": "D", "facets": "D"}
MAX_POSITION = 16383
MAX_POSITIONS_PER_TERM = 255
#: A broad phrase is checked on at most this many of the newest entries holding its words,
#: then on all of them at once (slow, but only for a phrase whose words are common and
#: rarely in its order).
PHRASE_CHECKS = 20_000
#: The GIN indexes: name, column.
INDEXES = {"search_document_tsv": "tsv", "search_document_described": "described"}
#: ``maintenance_work_mem`` of each index build after a rebuild.
BUILD_MEMORY = "1GB"
_REPLACE = (
    "ON CONFLICT (record_id) DO UPDATE SET tsv = excluded.tsv, described = excluded.described,"
    " stamp = excluded.stamp, indexed_at = excluded.indexed_at"
)


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


#: ``_LABELS[weight][position]`` is "<position><weight>": made once, not for every term.
_LABELS = {w: [f"{p}{w}" for p in range(MAX_POSITION + 1)] for w in set(WEIGHT.values())}
#: From this many terms on, a column's terms are sorted first, so that Python visits each
#: distinct term once rather than each of a page's thousands.
_SORT_FROM = 200


def tsvectors(document: Document) -> tuple[str, str]:
    """The document's two ``tsvector`` literals: every column (``tsv``) and the description
    (``described``: identifiers, description, facets), weighted, with positions.

    Each column starts one position after the previous one ends, so that no phrase runs from
    one into the next. Both begin with the identifiers and the description, at the same
    positions, so those are worked out once.
    """
    positions: dict[str, list[str]] = {}
    position = 1
    for column in ("exact", "meta"):
        _add(positions, getattr(document, column), position, WEIGHT[column])
        position += len(getattr(document, column)) + 1
    facets = document.facets
    if positions.keys().isdisjoint(facets):
        own: dict[str, list[str]] = {}
        _add(own, facets, position, WEIGHT["facets"])
        described = " ".join(filter(None, (_literal(positions), _literal(own))))
    else:
        own = {term: list(at) for term, at in positions.items()}
        _add(own, facets, position, WEIGHT["facets"])
        described = _literal(own)
    _add(positions, document.pages, position, WEIGHT["pages"])
    position += len(document.pages) + 1
    _add_first(positions, document.chars, position, WEIGHT["chars"])
    position += len(document.chars) + 1
    _add(positions, facets, position, WEIGHT["facets"])
    return _literal(positions), described


def _add(positions, terms, position, weight) -> None:
    """Add the positions of ``terms`` (the first is ``position`` + 1), at most
    ``MAX_POSITIONS_PER_TERM`` of each term; past ``MAX_POSITION``, a new term gets one (the
    last)."""
    count = len(terms)
    if position + count > MAX_POSITION:
        for term in terms:
            position += 1
            found = positions.get(term)
            if found is None:
                positions[term] = [f"{min(position, MAX_POSITION)}{weight}"]
            elif position <= MAX_POSITION and len(found) < MAX_POSITIONS_PER_TERM:
                found.append(f"{position}{weight}")
    elif count >= _SORT_FROM:
        at = _LABELS[weight][position + 1 : position + 1 + count].__getitem__
        # A stable sort: each term's indexes stay in ascending order.
        indexes = sorted(range(count), key=terms.__getitem__)
        for term, found_at in groupby(indexes, terms.__getitem__):
            found = positions.get(term)
            if found is None:
                positions[term] = list(map(at, islice(found_at, MAX_POSITIONS_PER_TERM)))
            elif len(found) < MAX_POSITIONS_PER_TERM:
                found.extend(map(at, islice(found_at, MAX_POSITIONS_PER_TERM - len(found))))
    else:
        labels = _LABELS[weight]
        get = positions.get
        for at, term in enumerate(terms, position + 1):
            found = get(term)
            if found is None:
                positions[term] = [labels[at]]
            elif len(found) < MAX_POSITIONS_PER_TERM:
                found.append(labels[at])


def _add_first(positions, terms, position, weight) -> None:
    """Single characters are never part of a phrase: one position each (the first) keeps the
    tsvector (which a phrase check reads whole) about a third smaller."""
    labels = _LABELS[weight]
    end = position + len(terms)
    # Walked backwards, a character's last write is its first position.
    first = dict(zip(reversed(terms), range(end, position, -1), strict=True))
    for term, at in first.items():
        if term not in positions:
            positions[term] = [labels[min(at, MAX_POSITION)]]


def _literal(positions) -> str:
    terms = "\0".join(positions)
    if "'" in terms or "\\" in terms:  # never the analyzer's own terms, but a name may
        return " ".join([f"{_quote(term)}:{','.join(at)}" for term, at in positions.items()])
    return " ".join([f"'{term}':{','.join(at)}" for term, at in positions.items()])


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
    concurrent_writes = True

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
            cursor.execute(
                "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression'"
                " AND 'lz4' = ANY(enumvals)"
            )
            if cursor.fetchone():  # several times faster than pglz, to write and to read
                cursor.execute(
                    "ALTER TABLE search_document ALTER COLUMN tsv SET COMPRESSION lz4,"
                    " ALTER COLUMN described SET COMPRESSION lz4"
                )
            self._create_indexes(cursor)

    def _create_indexes(self, cursor) -> None:
        for name, column in INDEXES.items():
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON search_document USING gin ({column})"
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
                f" (SELECT updated_at FROM catalogue_record WHERE id = %s), now()) {_REPLACE}",
                [(d.record_id, *tsvectors(d), d.record_id) for d in documents],
            )

    def write_bulk(self, documents) -> None:
        """``write`` for a rebuild: the entries go in by COPY, several times faster than a
        statement per entry. A record a clerk changed meanwhile has its entry already, and
        COPY stops at it: then the chunk goes through a temporary table and ``_REPLACE``."""
        if not documents:
            return
        rows = [(d.record_id, *tsvectors(d), d.stamp) for d in documents]
        try:
            with transaction.atomic(using=self.connection.alias), self._cursor() as cursor:
                self._copy(cursor, "search_document", rows)
        except (IntegrityError, psycopg.errors.UniqueViolation):  # COPY is psycopg's own
            with transaction.atomic(using=self.connection.alias), self._cursor() as cursor:
                cursor.execute(
                    "CREATE TEMPORARY TABLE IF NOT EXISTS search_document_load"
                    " (LIKE search_document INCLUDING DEFAULTS)"
                )
                cursor.execute("TRUNCATE search_document_load")
                self._copy(cursor, "search_document_load", rows)
                cursor.execute(
                    "INSERT INTO search_document (record_id, tsv, described, stamp, indexed_at)"
                    f" SELECT record_id, tsv, described, stamp, indexed_at"
                    f" FROM search_document_load {_REPLACE}"
                )

    @staticmethod
    def _copy(cursor, table, rows) -> None:
        with cursor.cursor.copy(
            f"COPY {table} (record_id, tsv, described, stamp, indexed_at) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row((*row, "now"))

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

    def _newest(self, cursor, query, limit, *, below=None):
        """The newest ``limit`` matches. GIN gives matches in no order, so "newest" would read
        every match's row to sort them (tens of thousands for a common word): they are looked
        for band by band instead (``analyzer.ID_BAND``), the newest bands first, so that a
        common word reads the rows of the newest bands only. As many bands are taken next as
        the matches found so far say are needed; a rare word reads all that are left at once."""
        if below is None:
            cursor.execute("SELECT max(record_id) FROM search_document")
        else:
            cursor.execute(
                "SELECT max(record_id) FROM search_document WHERE record_id < %s", [below]
            )
        top = cursor.fetchone()[0]
        if top is None:
            return []
        found, band, width, searched = [], top // ID_BAND, 2, 0
        while band >= 0 and len(found) < limit:
            lowest = band - width + 1
            if lowest <= 0:  # the rest, bounded by id: its matches are few
                found += self._newest_of(
                    cursor, query, limit - len(found), below=min(top + 1, (band + 1) * ID_BAND)
                )
                break
            terms = " | ".join(_quote(band_term(b)) for b in range(band, lowest - 1, -1))
            banded = _Query(
                column=query.column,
                text=f"({query.text}) & ({terms})",
                words=f"({query.words}) & ({terms})",
            )
            # The first bands may reach above ``below``: bounded there.
            found += self._newest_of(cursor, banded, limit - len(found), below=below)
            searched += width
            band = lowest - 1
            per_band = len(found) / searched
            wanted = (limit - len(found)) / per_band if per_band else band + 1
            width = max(width * 2, math.ceil(wanted * 1.5))
        return found[:limit]

    def _newest_of(self, cursor, query, limit, *, below=None):
        """The newest ``limit`` matches of ``query`` (with ids under ``below``); a phrase is
        checked on the newest entries holding its words, a batch at a time."""
        bound = "" if below is None else f" AND record_id < {int(below)}"
        newest = (
            f"SELECT record_id FROM search_document WHERE {query.column} @@ CAST(%s AS tsquery)"
            f"{bound} ORDER BY record_id DESC LIMIT %s"
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
            for name in INDEXES:
                cursor.execute(f"DROP INDEX IF EXISTS {name}")
            cursor.execute("TRUNCATE search_document")

    def finish_rebuild(self) -> None:
        if self.connection.in_atomic_block:  # another connection would not see the entries
            with transaction.atomic(using=self.connection.alias), self._cursor() as cursor:
                cursor.execute(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
                self._create_indexes(cursor)
        else:
            # PostgreSQL builds a GIN index in one process: the two are built at once, each
            # on a connection of its own (Django's connections belong to their thread).
            with ThreadPoolExecutor(len(INDEXES)) as pool:
                list(pool.map(self._create_index, INDEXES))
        with self._cursor() as cursor:
            cursor.execute("ANALYZE search_document")

    def _create_index(self, name) -> None:
        connection = connections[self.connection.alias]
        try:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                # GIN builds far faster when it can gather the whole index in memory.
                cursor.execute(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS {name} ON search_document"
                    f" USING gin ({INDEXES[name]})"
                )
        finally:
            connection.close()

    def size_bytes(self) -> int | None:
        with self._cursor() as cursor:
            cursor.execute("SELECT pg_total_relation_size('search_document')")
            return cursor.fetchone()[0]
