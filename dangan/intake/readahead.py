"""Reading and checking a big register in a second process while this one files its rows.

An import does two kinds of work: reading the sheet and checking each row (XML parsing, dates,
ID numbers: about a fifth of the time) and writing the catalogue (numbering, inserts, the index,
the audit trail, the ledger). They are independent, so for a big file the first runs in a child
process on the other core and sends the checked rows back in chunks, in order, together with
what it found (errors, duplicates, totals and blank rows), exactly as ``rows.read_row``
reports them when it runs inline. The child touches no database: it gets the row reader (with
the category's fields) and the known header names from this process.

The child is started with ``spawn``, not ``fork``: the web server and the worker have threads,
and a forked child could inherit a lock another thread held. Starting costs about a second,
which is why small files are read inline (``services.READ_AHEAD_BYTES``).
"""

import multiprocessing
import pickle
import queue
import threading
from functools import partial

from django.utils import translation

#: Source rows per message to the importing process.
CHUNK_ROWS = 1000


def checked_rows(*, path, known: dict, reader, report):
    """The checked rows of the register at ``path``, read by a child process; what the child
    found wrong with the others goes into ``report`` as the rows arrive."""
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(
        target=_read,
        args=(sending, str(path), known, pickle.dumps(reader), translation.get_language()),
        daemon=True,
        name="dangan-register-reader",
    )
    child.start()
    sending.close()
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    # The pipe holds only a few kilobytes: a thread empties it at once, so the child reads on
    # while this process is busy writing a batch.
    threading.Thread(target=_drain, args=(receiving, inbox), daemon=True).start()
    try:
        while True:
            kind, *payload = inbox.get()
            if kind == "rows":
                rows, part = payload
                _merge(report, part)
                yield from rows
            elif kind == "end":
                return
            elif kind == "unreadable":
                from .registers import RegisterUnreadable

                raise RegisterUnreadable(payload[0], code=payload[1])
            else:
                raise RuntimeError(f"reading the register failed: {payload[0]}")
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        receiving.close()


def _drain(receiving, inbox) -> None:
    while True:
        try:
            message = receiving.recv()
        except (EOFError, OSError):
            message = ("failed", "the reading process ended without finishing")
        inbox.put(message)
        if message[0] != "rows":
            return


def _merge(report, part: dict) -> None:
    report.rows += part["rows"]
    report.blank_rows += part["blank_rows"]
    report.errors.extend(part["errors"])
    report.checks.extend(part["checks"])
    report.duplicates.extend(part["duplicates"])
    report.skipped.extend(part["skipped"])


def _read(sending, path: str, known: dict, reader: bytes, language: str | None) -> None:
    """The child: open the register as the parent did, check every row, send them in order."""
    import django

    django.setup()
    from . import mapping, registers, rows

    translation.activate(language or "zh-hans")
    try:
        reader = pickle.loads(reader)
        register = registers.open_register(path, score=partial(mapping.header_score, known=known))
        seen = rows.Seen()
        part, checked, count = _Part(), [], 0
        for number, cells in register.rows():
            row = rows.read_row(number, cells, reader, seen, part)
            if row is not None:
                checked.append(row)
            count += 1
            if count % CHUNK_ROWS == 0:
                sending.send(("rows", checked, vars(part)))
                part, checked = _Part(), []
        sending.send(("rows", checked, vars(part)))
        sending.send(("end",))
    except registers.RegisterUnreadable as exc:
        sending.send(("unreadable", exc.messages[0], exc.code))
    except BaseException as exc:  # told to the parent, which raises it there
        sending.send(("failed", repr(exc)))
    finally:
        sending.close()


class _Part:
    """What ``rows.read_row`` writes into a report, for one chunk of rows."""

    def __init__(self):
        self.rows = self.blank_rows = 0
        self.errors, self.checks, self.duplicates, self.skipped = [], [], [], []
