"""The triggers that keep ``stats.Holding`` equal to the records table, on SQLite and PostgreSQL.

Installed after every ``migrate`` (``post_migrate``), not only by a migration: SQLite rebuilds a
table to alter it, and its triggers go with the old table. When the triggers were missing the
counts are rebuilt from the records, in the same transaction.
"""

from django.db import connections, transaction

TABLE = "stats_holding"
COLUMNS = ["fonds_id", "category_id", "unit_id", "secrecy", "year", "retention", "level", "state"]
_TRIGGERS = ["stats_holding_insert", "stats_holding_delete", "stats_holding_update"]


def _match(row: str, null_safe: str) -> str:
    return " AND ".join(
        f"{c} {null_safe} {row}.{c}" if c == "unit_id" else f"{c} = {row}.{c}" for c in COLUMNS
    )


def _values(row: str) -> str:
    return ", ".join(f"{row}.{c}" for c in COLUMNS)


def _changed(null_safe_not: str) -> str:
    return " OR ".join(f"OLD.{c} {null_safe_not} NEW.{c}" for c in COLUMNS)


def _sqlite() -> list[str]:
    cols = ", ".join(COLUMNS)

    def add(row):
        return (
            f"UPDATE {TABLE} SET n = n + 1 WHERE rowid = (SELECT rowid FROM {TABLE}"
            f" WHERE {_match(row, 'IS')} LIMIT 1);"
            f" INSERT INTO {TABLE} ({cols}, n) SELECT {_values(row)}, 1 WHERE changes() = 0;"
        )

    def remove(row):
        return (
            f"UPDATE {TABLE} SET n = n - 1 WHERE rowid = (SELECT rowid FROM {TABLE}"
            f" WHERE {_match(row, 'IS')} LIMIT 1);"
        )

    return [
        "CREATE TRIGGER IF NOT EXISTS stats_holding_insert AFTER INSERT ON catalogue_record"
        f" BEGIN {add('NEW')} END",
        "CREATE TRIGGER IF NOT EXISTS stats_holding_delete AFTER DELETE ON catalogue_record"
        f" BEGIN {remove('OLD')} END",
        f"CREATE TRIGGER IF NOT EXISTS stats_holding_update AFTER UPDATE OF {cols}"
        f" ON catalogue_record WHEN {_changed('IS NOT')}"
        f" BEGIN {remove('OLD')} {add('NEW')} END",
    ]


def _postgresql() -> list[str]:
    """Statement-level triggers over transition tables: one statement adds its rows' counts
    once, grouped. (A row trigger would update the same few counters once per record; inside
    one long transaction PostgreSQL then walks an ever longer chain of row versions.)"""
    cols = ", ".join(COLUMNS)
    d_cols = ", ".join(f"d.{c}" for c in COLUMNS)

    def same(a, b):
        return " AND ".join(f"{a}.{c} IS NOT DISTINCT FROM {b}.{c}" for c in COLUMNS)

    def apply(delta):
        return f"""
    WITH delta AS ({delta}),
    updated AS (
      UPDATE {TABLE} h SET n = h.n + d.n FROM delta d
      WHERE d.n <> 0 AND h.id = (SELECT x.id FROM {TABLE} x WHERE {same("x", "d")} LIMIT 1)
      RETURNING {d_cols}
    )
    INSERT INTO {TABLE} ({cols}, n)
    SELECT {d_cols}, d.n FROM delta d
    WHERE d.n <> 0 AND NOT EXISTS (SELECT 1 FROM updated u WHERE {same("u", "d")});"""

    added = f"SELECT {cols}, count(*) AS n FROM new_rows GROUP BY {cols}"
    removed = f"SELECT {cols}, -count(*) AS n FROM old_rows GROUP BY {cols}"
    moved = (
        f"SELECT {cols}, sum(n) AS n FROM (SELECT {cols}, 1 AS n FROM new_rows"
        f" UNION ALL SELECT {cols}, -1 AS n FROM old_rows) t GROUP BY {cols}"
    )
    function = f"""
CREATE OR REPLACE FUNCTION stats_holding_count() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN {apply(added)}
  ELSIF TG_OP = 'DELETE' THEN {apply(removed)}
  ELSE {apply(moved)}
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql"""
    run = "FOR EACH STATEMENT EXECUTE FUNCTION stats_holding_count()"
    return [
        function,
        *(f"DROP TRIGGER IF EXISTS {name} ON catalogue_record" for name in _TRIGGERS),
        "CREATE TRIGGER stats_holding_insert AFTER INSERT ON catalogue_record"
        f" REFERENCING NEW TABLE AS new_rows {run}",
        "CREATE TRIGGER stats_holding_delete AFTER DELETE ON catalogue_record"
        f" REFERENCING OLD TABLE AS old_rows {run}",
        "CREATE TRIGGER stats_holding_update AFTER UPDATE ON catalogue_record"
        f" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows {run}",
    ]


def _installed(cursor, vendor: str) -> int:
    if vendor == "sqlite":
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN (%s, %s, %s)",
            _TRIGGERS,
        )
    else:
        cursor.execute(  # statement-level ones: bit 0 of tgtype is "for each row"
            "SELECT count(DISTINCT tgname) FROM pg_trigger WHERE tgname IN (%s, %s, %s)"
            " AND tgtype & 1 = 0",
            _TRIGGERS,
        )
    return cursor.fetchone()[0]


def rebuild(cursor) -> None:
    """Count the records afresh (``dangan stats-rebuild`` after a restore, or trigger loss)."""
    cols = ", ".join(COLUMNS)
    cursor.execute(f"DELETE FROM {TABLE}")
    cursor.execute(
        f"INSERT INTO {TABLE} ({cols}, n) SELECT {cols}, count(*) FROM catalogue_record"
        f" GROUP BY {cols}"
    )


def install(using: str = "default") -> bool:
    """Create the triggers where they are missing; True when the counts had to be rebuilt."""
    connection = connections[using]
    if connection.vendor not in ("sqlite", "postgresql"):
        return False
    tables = connection.introspection.table_names()
    if TABLE not in tables or "catalogue_record" not in tables:
        return False
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if _installed(cursor, connection.vendor) == len(_TRIGGERS):
            return False
        for sql in _sqlite() if connection.vendor == "sqlite" else _postgresql():
            cursor.execute(sql)
        rebuild(cursor)
    return True
