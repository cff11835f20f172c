"""SQLite FTS5: the default engine, inside the county's one database file.

The analyzer's terms are kept in an ordinary table (``search_document``) and an
external-content FTS5 table (``search_fts``) indexes it with the ``unicode61`` tokenizer, which
only has to split the terms on spaces. Why not FTS5's own tokenizers: ``trigram`` finds nothing
for two-character Chinese terms, and the SQLite 3.40 we ship lacks ``contentless_delete``, so a
changed record's old terms must come from somewhere; triggers on ``search_document`` pass them
to FTS5 on every insert, update and delete, so the two cannot drift apart.

Ranking is FTS5's BM25 with column weights: identifiers (exact names, ID numbers, codes)
weigh most, then the description, then page text, then single characters.
"""

from django.db import transaction

from ..analyzer import COLUMNS
from .base import SqlBackend, render

#: BM25 weight of each column, in ``analyzer.COLUMNS`` order.
WEIGHTS = {"meta": 2.0, "pages": 1.0, "chars": 0.3, "exact": 10.0, "facets": 0.0}
TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* N* Co Cn' tokenchars '_'"

_COLUMNS = ", ".join(COLUMNS)
_NEW = ", ".join(f"new.{c}" for c in COLUMNS)
_OLD = ", ".join(f"old.{c}" for c in COLUMNS)
TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS search_document_ai AFTER INSERT ON search_document BEGIN
        INSERT INTO search_fts(rowid, {_COLUMNS}) VALUES (new.record_id, {_NEW}); END""",
    f"""CREATE TRIGGER IF NOT EXISTS search_document_ad AFTER DELETE ON search_document BEGIN
        INSERT INTO search_fts(search_fts, rowid, {_COLUMNS})
        VALUES ('delete', old.record_id, {_OLD}); END""",
    f"""CREATE TRIGGER IF NOT EXISTS search_document_au AFTER UPDATE OF {_COLUMNS}
        ON search_document BEGIN
        INSERT INTO search_fts(search_fts, rowid, {_COLUMNS})
        VALUES ('delete', old.record_id, {_OLD});
        INSERT INTO search_fts(rowid, {_COLUMNS}) VALUES (new.record_id, {_NEW}); END""",
]
DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS search_document_ai",
    "DROP TRIGGER IF EXISTS search_document_ad",
    "DROP TRIGGER IF EXISTS search_document_au",
]


def _term(t):
    return f'"{t.text}"*' if t.prefix else f'"{t.text}"'


def to_match(node) -> str:
    """A query tree as an FTS5 MATCH expression (terms are letters, digits and ``_`` only)."""
    return render(
        node,
        term=_term,
        phrase=lambda p: '"' + " ".join(p.terms) + '"',
        all_sep=" AND ",
        any_sep=" OR ",
    )


class SqliteFtsBackend(SqlBackend):
    name = "sqlite-fts5"

    def ensure_schema(self) -> None:
        with self._cursor() as cursor:
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS search_document ("
                " record_id INTEGER PRIMARY KEY,"
                + "".join(f" {c} TEXT NOT NULL DEFAULT ''," for c in COLUMNS)
                + " stamp TEXT, indexed_at TEXT)"
            )
            cursor.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5({_COLUMNS},"
                " content='search_document', content_rowid='record_id',"
                f' tokenize="{TOKENIZER}")'
            )
            weights = ", ".join(str(WEIGHTS[c]) for c in COLUMNS)
            cursor.execute(
                "INSERT INTO search_fts(search_fts, rank) VALUES ('rank', %s)",
                [f"bm25({weights})"],
            )
            for sql in TRIGGERS:
                cursor.execute(sql)

    def drop_schema(self) -> None:
        with self._cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS search_fts")
            cursor.execute("DROP TABLE IF EXISTS search_document")

    def write(self, documents) -> None:
        if not documents:
            return
        with transaction.atomic(using=self.connection.alias), self._cursor() as cursor:
            self._delete(cursor, [d.record_id for d in documents])
            self._insert(cursor, documents)

    def _insert(self, cursor, documents) -> None:
        marks = ", ".join(["%s"] * len(COLUMNS))
        cursor.executemany(
            f"INSERT INTO search_document (record_id, {_COLUMNS}, stamp, indexed_at) "
            f"VALUES (%s, {marks}, (SELECT updated_at FROM catalogue_record WHERE id = %s),"
            " CURRENT_TIMESTAMP)",
            [(d.record_id, *d.columns().values(), d.record_id) for d in documents],
        )

    def _delete(self, cursor, record_ids) -> None:
        for start in range(0, len(record_ids), 500):
            chunk = list(record_ids[start : start + 500])
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"DELETE FROM search_document WHERE record_id IN ({marks})", chunk)

    def remove(self, record_ids) -> None:
        with self._cursor() as cursor:
            self._delete(cursor, list(record_ids))

    def _query(self, node, within, *, description_only=False) -> str:
        match = to_match(node)
        if description_only:
            match = "{meta exact} : " + (match if match.startswith("(") else f"({match})")
        return match if within is None else f"({match}) AND {to_match(within)}"

    def _more_than(self, cursor, query, n) -> bool:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH %s LIMIT %s)",
            [query, n + 1],
        )
        return cursor.fetchone()[0] > n

    def _ranked(self, cursor, query, limit):
        cursor.execute(
            "SELECT rowid, rank FROM search_fts WHERE search_fts MATCH %s ORDER BY rank LIMIT %s",
            [query, limit],
        )
        return [(pk, -rank) for pk, rank in cursor.fetchall()]

    def _newest(self, cursor, query, limit):
        cursor.execute(
            "SELECT rowid FROM search_fts WHERE search_fts MATCH %s ORDER BY rowid DESC LIMIT %s",
            [query, limit],
        )
        return [row[0] for row in cursor.fetchall()]

    # --- Rebuilding: fill the plain table without triggers, then let FTS5 read it once. ---

    def start_rebuild(self) -> None:
        self.ensure_schema()
        with transaction.atomic(using=self.connection.alias), self._cursor() as cursor:
            for sql in DROP_TRIGGERS:
                cursor.execute(sql)
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")
            cursor.execute("DELETE FROM search_document")

    def write_bulk(self, documents) -> None:
        # No triggers during a rebuild: a record a clerk changes meanwhile is written here too
        # (``write``), and ``finish_rebuild`` indexes whatever the table holds at the end.
        self.write(documents)

    def finish_rebuild(self) -> None:
        with transaction.atomic(using=self.connection.alias), self._cursor() as cursor:
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
            for sql in TRIGGERS:
                cursor.execute(sql)
        with self._cursor() as cursor:
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")

    def size_bytes(self) -> int | None:
        with self._cursor() as cursor:
            try:
                cursor.execute(
                    "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search\\_%' ESCAPE '\\'"
                )
            except Exception:  # SQLite built without the dbstat table
                return None
            return cursor.fetchone()[0]
