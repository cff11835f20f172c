"""SQLite FTS5: the default engine, inside the county's one database file.

The analyzer's terms are kept in an ordinary table (``search_document``) and an
external-content FTS5 table (``search_fts``) indexes it with the ``unicode61`` tokenizer, which
only has to split the terms on spaces. Why not FTS5's own tokenizers: ``trigram`` finds nothing
for two-character Chinese terms, and the SQLite 3.40 we ship lacks ``contentless_delete``, so a
changed record's old terms must come from somewhere; triggers on ``search_document`` pass them
to FTS5 on every insert, update and delete, so the two cannot drift apart.

Ranking is FTS5's BM25 with column weights: identifiers (exact names, ID numbers, codes)
weigh most, then the description, then page text, then single characters.

A second FTS5 table over the same rows, ``search_described``, indexes only the description
(``meta``, ``exact``, ``facets``): a broad query's matches in the description are looked up
there, in a few entries, instead of walking every page-text entry of its phrase to see which
column it is in.
"""

from dataclasses import dataclass

from django.db import transaction

from ..analyzer import COLUMNS
from .base import SqlBackend, render

#: BM25 weight of each column, in ``analyzer.COLUMNS`` order.
WEIGHTS = {"meta": 2.0, "pages": 1.0, "chars": 0.3, "exact": 10.0, "facets": 0.0}
TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* N* Co Cn' tokenchars '_'"

_COLUMNS = ", ".join(COLUMNS)
DESCRIBED = ("meta", "exact", "facets")
#: Each FTS5 table and the columns of ``search_document`` it indexes.
TABLES = {"search_fts": COLUMNS, "search_described": DESCRIBED}


def _each_table(template: str) -> str:
    """``template`` once per FTS5 table, with {t} its name, {c} its columns, {new} / {old}
    the trigger's row's values of those columns."""
    return "".join(
        template.format(
            t=table,
            c=", ".join(columns),
            new=", ".join(f"new.{c}" for c in columns),
            old=", ".join(f"old.{c}" for c in columns),
        )
        for table, columns in TABLES.items()
    )


_INSERT = "INSERT INTO {t}(rowid, {c}) VALUES (new.record_id, {new});"
_DELETE = "INSERT INTO {t}({t}, rowid, {c}) VALUES ('delete', old.record_id, {old});"
TRIGGERS = [
    "CREATE TRIGGER search_document_ai AFTER INSERT ON search_document BEGIN "
    + _each_table(_INSERT)
    + " END",
    "CREATE TRIGGER search_document_ad AFTER DELETE ON search_document BEGIN "
    + _each_table(_DELETE)
    + " END",
    f"CREATE TRIGGER search_document_au AFTER UPDATE OF {', '.join(COLUMNS)} ON search_document"
    " BEGIN " + _each_table(_DELETE) + _each_table(_INSERT) + " END",
]
DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS search_document_ai",
    "DROP TRIGGER IF EXISTS search_document_ad",
    "DROP TRIGGER IF EXISTS search_document_au",
]


@dataclass(frozen=True)
class _Match:
    table: str
    text: str


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
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            existing = {row[0] for row in cursor.fetchall()}
            for table, columns in TABLES.items():
                cursor.execute(
                    f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5({', '.join(columns)},"
                    " content='search_document', content_rowid='record_id',"
                    f' tokenize="{TOKENIZER}")'
                )
                weights = ", ".join(str(WEIGHTS[c]) for c in columns)
                cursor.execute(
                    f"INSERT INTO {table}({table}, rank) VALUES ('rank', %s)",
                    [f"bm25({weights})"],
                )
                if table not in existing:  # added to an index that has entries already
                    cursor.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
            for sql in DROP_TRIGGERS + TRIGGERS:  # the triggers of every table, as they are now
                cursor.execute(sql)

    def drop_schema(self) -> None:
        with self._cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
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

    def _query(self, node, within, *, description_only=False) -> _Match:
        match = to_match(node)
        if within is not None:
            match = f"({match}) AND {to_match(within)}"
        return _Match("search_described" if description_only else "search_fts", match)

    def _matches(self, cursor, query, *, upto):
        cursor.execute(
            f"SELECT rowid FROM {query.table} WHERE {query.table} MATCH %s LIMIT %s",
            [query.text, upto + 1],
        )
        return [row[0] for row in cursor.fetchall()]

    def _ranked(self, cursor, query, limit):
        cursor.execute(
            f"SELECT rowid, rank FROM {query.table} WHERE {query.table} MATCH %s"
            " ORDER BY rank LIMIT %s",
            [query.text, limit],
        )
        return [(pk, -rank) for pk, rank in cursor.fetchall()]

    def _newest(self, cursor, query, limit, *, below=None):
        bound = "" if below is None else f" AND rowid < {int(below)}"
        cursor.execute(
            f"SELECT rowid FROM {query.table} WHERE {query.table} MATCH %s{bound}"
            " ORDER BY rowid DESC LIMIT %s",
            [query.text, limit],
        )
        return [row[0] for row in cursor.fetchall()]

    # --- Rebuilding: fill the plain table without triggers, then let FTS5 read it once. ---

    def start_rebuild(self) -> None:
        self.ensure_schema()
        with transaction.atomic(using=self.connection.alias), self._cursor() as cursor:
            for sql in DROP_TRIGGERS:
                cursor.execute(sql)
            for table in TABLES:
                cursor.execute(f"INSERT INTO {table}({table}) VALUES ('delete-all')")
            cursor.execute("DELETE FROM search_document")

    def write_bulk(self, documents) -> None:
        # No triggers during a rebuild: a record a clerk changes meanwhile is written here too
        # (``write``), and ``finish_rebuild`` indexes whatever the table holds at the end.
        self.write(documents)

    def finish_rebuild(self) -> None:
        with transaction.atomic(using=self.connection.alias), self._cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
            for sql in TRIGGERS:
                cursor.execute(sql)
        with self._cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")

    def size_bytes(self) -> int | None:
        with self._cursor() as cursor:
            try:
                cursor.execute(
                    "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search\\_%' ESCAPE '\\'"
                )
            except Exception:  # SQLite built without the dbstat table
                return None
            return cursor.fetchone()[0]
