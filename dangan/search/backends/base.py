"""The interface every search engine implements, and what all SQL engines share."""

from abc import ABC, abstractmethod

from ..analyzer import AllOf, AnyOf, Document, Phrase, Term, description_part


class SearchBackend(ABC):
    """A full-text index of records, one entry (``analyzer.Document``) per record.

    The backend stores the analyzer's terms and answers parsed queries; it knows nothing of
    users. The selector passes the user's rights as a filter of facet terms (``within``) so
    that ranking happens among visible records, and then checks every hit again against
    ``visible_records``: the index narrows, the catalogue decides.
    """

    name = "base"
    #: Whether entries may be written from several connections at once (a rebuild by
    #: several processes); SQLite has one writer at a time.
    concurrent_writes = False

    def __init__(self, connection):
        self.connection = connection

    @abstractmethod
    def ensure_schema(self) -> None:
        """Create the index's tables if they are missing (called by the migration)."""

    @abstractmethod
    def write(self, documents: list[Document]) -> None:
        """Replace the entries of these records, inside the caller's transaction."""

    @abstractmethod
    def remove(self, record_ids: list[int]) -> None:
        """Drop the entries of these records (destroyed or deleted ones)."""

    @abstractmethod
    def search(self, node, *, within=None, limit: int) -> list[tuple[int, float]]:
        """(record id, score) of the best ``limit`` matches of ``node``, best first (higher is
        better). ``within`` (the user's rights and the filters, as facet terms) narrows a broad
        query inside the index; a query with at most ``limit`` matches may be answered without
        it, as the caller checks every hit against the catalogue anyway."""

    @abstractmethod
    def start_rebuild(self) -> None:
        """Empty the index before ``write_bulk`` calls; searches find nothing until
        ``finish_rebuild``."""

    def write_bulk(self, documents: list[Document]) -> None:
        self.write(documents)

    @abstractmethod
    def finish_rebuild(self) -> None:
        """Make the entries written since ``start_rebuild`` searchable."""

    @abstractmethod
    def stale_record_ids(self, *, limit: int) -> list[int]:
        """Records with no entry, or an entry older than the record's last change."""

    @abstractmethod
    def orphan_ids(self) -> list[int]:
        """Entries of records that no longer exist."""

    def size_bytes(self) -> int | None:
        return None


#: A broad query (a common phrase on every form) is ranked by its matches in the description
#: only, when they are at most this many, and the other matches follow newest first: ranking
#: tens of thousands of matches costs more than the clerk would wait.
RANK_LIMIT = 2000
#: ``search_block``'s ``below`` for "every newest match": a record id no record reaches.
FROM_THE_TOP = 2**62


class SqlBackend(SearchBackend):
    """What the SQLite and PostgreSQL backends share: the ``search_document`` table keyed by
    record id, with ``stamp`` (a copy of the record's ``updated_at`` when it was indexed)."""

    table = "search_document"

    def _cursor(self):
        return self.connection.cursor()

    def stale_record_ids(self, *, limit: int) -> list[int]:
        with self._cursor() as cursor:
            cursor.execute(
                f"SELECT r.id FROM catalogue_record r LEFT JOIN {self.table} d "
                "ON d.record_id = r.id WHERE d.record_id IS NULL OR d.stamp IS NULL "
                "OR d.stamp <> r.updated_at ORDER BY r.id LIMIT %s",
                [limit],
            )
            return [row[0] for row in cursor.fetchall()]

    def orphan_ids(self) -> list[int]:
        with self._cursor() as cursor:
            cursor.execute(
                f"SELECT d.record_id FROM {self.table} d LEFT JOIN catalogue_record r "
                "ON r.id = d.record_id WHERE r.id IS NULL"
            )
            return [row[0] for row in cursor.fetchall()]

    def search(self, node, *, within=None, limit: int) -> list[tuple[int, float]]:
        return self.search_block(node, within=within, limit=limit)[0]

    def search_block(
        self, node, *, within=None, limit: int, below: int | None = None
    ) -> tuple[list[tuple[int, float]], int | None]:
        """``search``, a block at a time: (the block's matches, where the next block starts).

        The first block (``below`` None) is what ``search`` answers. A broad query's matches
        come in blocks of ``limit``: its ranked matches in the description and the newest
        others, then, block after block, the next newest others with record ids under
        ``below`` (``FROM_THE_TOP``: all of them); the description's ranked matches are never
        repeated. The second value is the ``below`` of the next block, or None when there is
        none: each block is looked up from its key, as fast as the first."""
        with self._cursor() as cursor:
            if below is None:
                # A narrow query (a name, an ID number): rank every match and let the caller
                # drop the ones the user may not see. Filtering inside the index costs more.
                everything = self._query(node, None)
                if len(self._matches(cursor, everything, upto=limit)) <= limit:
                    return self._ranked(cursor, everything, limit), None
            # A broad one, even if few matches are within the user's rights: its matches in
            # the description first, then the newest others.
            best = self._described(cursor, description_part(node), within, limit)
            seen = {pk for pk, _score in best}
            full = self._query(node, within)
            if below is not None:
                newest = self._newest(cursor, full, limit, below=below)
                block = [(pk, 0.0) for pk in newest if pk not in seen]
                return block, (newest[-1] if len(newest) == limit else None)
            room = limit - len(best)
            if room <= 0:
                return best[:limit], FROM_THE_TOP
            newest = self._newest(cursor, full, limit)
            rest, used = [], 0
            for pk in newest:
                if len(rest) == room:
                    break
                used += 1
                if pk not in seen:
                    rest.append((pk, 0.0))
            more = used < len(newest) or len(newest) == limit
            return best + rest, (newest[used - 1] if more else None)

    def _described(self, cursor, node, within, limit) -> list[tuple[int, float]]:
        """The ranked matches of ``node`` in the description within ``within``, when there
        are at most ``RANK_LIMIT``; else none."""
        if node is None:
            return []
        described = self._query(node, within, description_only=True)
        visible = set(self._matches(cursor, described, upto=RANK_LIMIT))
        if not visible or len(visible) > RANK_LIMIT:
            return []
        # Ranked without ``within`` where that costs less: BM25 would read every entry of the
        # rights' terms (of "secrecy at most 2": nearly all) to weigh them.
        plain = self._query(node, None, description_only=True)
        if within is None or len(self._matches(cursor, plain, upto=RANK_LIMIT)) > RANK_LIMIT:
            return self._ranked(cursor, described, limit)
        ranked = self._ranked(cursor, plain, RANK_LIMIT)
        return [(pk, score) for pk, score in ranked if pk in visible][:limit]

    @abstractmethod
    def _query(self, node, within, *, description_only=False):
        """The engine's query for ``node`` narrowed by ``within``, in whatever form its other
        methods take (``description_only``: matches in the description alone)."""

    @abstractmethod
    def _matches(self, cursor, query, *, upto: int) -> list[int]:
        """Record ids of the entries ``query`` matches, no more than ``upto`` + 1. An engine
        may include entries that hold the query's words but not its phrases (never fewer):
        these only choose how the matches are ranked."""

    @abstractmethod
    def _ranked(self, cursor, query, limit) -> list[tuple[int, float]]:
        """(record id, score) of the best ``limit`` matches, ranked by the engine."""

    @abstractmethod
    def _newest(self, cursor, query, limit, *, below: int | None = None) -> list[int]:
        """The newest ``limit`` matches' record ids (under ``below``), unranked."""

    def count(self) -> int:
        with self._cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {self.table}")
            return cursor.fetchone()[0]


def render(node, *, term, phrase, all_sep, any_sep) -> str:
    """A query tree as an engine's query string, given how the engine writes each piece."""

    def walk(n):
        if isinstance(n, Term):
            return term(n)
        if isinstance(n, Phrase):
            return phrase(n)
        if isinstance(n, AllOf):
            return "(" + all_sep.join(walk(p) for p in n.parts) + ")"
        if isinstance(n, AnyOf):
            return "(" + any_sep.join(walk(p) for p in n.parts) + ")"
        raise TypeError(f"not a query node: {n!r}")

    return walk(node)
