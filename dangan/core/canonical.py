"""Canonical JSON: the one text of a value that the audit trail's and the ledger's digests cover.

Sorted keys, no spaces, UTF-8 as it is (no ``\\uXXXX``), dates and decimals as Django writes
them. The text must never change for a value already digested, or old digests stop matching.
One encoder serves every call: building one per call (``json.dumps(..., cls=...)``) cost more
than the encoding itself when an import digests several values for each of 100,000 rows.
"""

import hashlib

from django.core.serializers.json import DjangoJSONEncoder

_ENCODER = DjangoJSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class Encoded(str):
    """A value's canonical JSON text, made already (``dumps`` returns it as it is): a writer
    that needs one value's text in two places (an import's audit trail and ledger) encodes it
    once. Only as the whole value, never inside a dict or list."""


def dumps(value) -> str:
    """The canonical JSON text of ``value`` (thread-safe: the encoder keeps no state)."""
    if type(value) is Encoded:
        return str(value)
    return _ENCODER.encode(value)


def sha256_of(value) -> str:
    """``sha256:<hex>`` of ``value``'s canonical JSON: the digest the ledger keeps for metadata."""
    return "sha256:" + hashlib.sha256(dumps(value).encode()).hexdigest()
