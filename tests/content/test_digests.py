import hashlib
import io
import os

from dangan.content.digests import Digester, digest_stream, sm3


def hex_sm3(data: bytes) -> str:
    h = sm3()
    h.update(data)
    return h.hexdigest()


def test_sm3_matches_the_standards_examples():
    # GB/T 32905-2016, appendix A: "abc" and "abcd" repeated 16 times.
    assert hex_sm3(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert hex_sm3(b"abcd" * 16) == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    )


def test_digester_gives_the_sha256_of_the_whole_stream_in_order():
    chunks = [os.urandom(n) for n in (10, 300_000, 1_048_576, 5, 2_000_000)]
    digester = Digester()
    for chunk in chunks:
        digester.update(chunk)
    whole = b"".join(chunks)
    assert digester.finish() == hashlib.sha256(whole).hexdigest()
    assert digester.size == len(whole)


def test_digest_stream_gives_both_digests_and_the_size():
    data = os.urandom(2_500_000)
    assert digest_stream(io.BytesIO(data), 1_000_000) == (
        hashlib.sha256(data).hexdigest(),
        hex_sm3(data),
        len(data),
    )
