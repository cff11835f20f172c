"""The stores, local disk and S3 (a real S3 API: moto's server), behave the same."""

import hashlib
import io
import os
import tracemalloc
from contextlib import ExitStack

import pytest

from .conftest import leftovers


def put(store, data: bytes, chunk=1024 * 1024):
    with store.receive() as incoming:
        for start in range(0, len(data), chunk):
            incoming.write(data[start : start + chunk])
        return incoming.commit()


def read_all(store, key) -> bytes:
    stream = store.open(key)
    try:
        return stream.read()
    finally:
        stream.close()


def test_round_trip_keeps_bytes_and_gives_the_sha256(store):
    data = os.urandom(3 * 1024 * 1024 + 17)
    stored = put(store, data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    assert stored.key == f"{stored.sha256[:2]}/{stored.sha256[2:4]}/{stored.sha256}"
    assert not stored.existed
    assert read_all(store, stored.key) == data
    assert leftovers(store) == []


def test_a_large_blob_goes_up_in_parts_and_comes_back_whole(store):
    data = os.urandom(20 * 1024 * 1024 + 5)  # several S3 parts
    stored = put(store, data, chunk=3 * 1024 * 1024)
    assert read_all(store, stored.key) == data
    assert leftovers(store) == []


def test_same_bytes_are_stored_once_and_never_overwritten(store):
    data = os.urandom(100_000)
    first = put(store, data)
    second = put(store, data)
    assert second.key == first.key
    assert second.existed
    assert read_all(store, first.key) == data
    assert leftovers(store) == []


def test_uploads_committed_together_are_each_stored_once(store):
    from dangan.content.stores import commit_together

    pages = [os.urandom(300_000) for _ in range(5)]
    with ExitStack() as stack:
        incomings = []
        for data in [*pages, pages[1]]:  # the second page scanned twice
            incoming = stack.enter_context(store.receive())
            incoming.write(data)
            incoming.finish_writing()
            incomings.append(incoming)
        stored = commit_together(incomings)
    assert [s.sha256 for s in stored] == [
        hashlib.sha256(data).hexdigest() for data in [*pages, pages[1]]
    ]
    assert [s.existed for s in stored] == [False] * 5 + [True]
    assert [read_all(store, s.key) for s in stored[:5]] == pages
    assert leftovers(store) == []


def test_local_blobs_are_read_only_files(local_store):
    stored = put(local_store, b"\xff\xd8\xff" + os.urandom(100))
    assert not os.access(local_store.path(stored.key), os.W_OK) or os.geteuid() == 0
    assert local_store.path(stored.key).stat().st_mode & 0o222 == 0


def test_an_abandoned_upload_leaves_nothing(store):
    with pytest.raises(RuntimeError), store.receive() as incoming:
        incoming.write(os.urandom(10 * 1024 * 1024))  # a multipart upload has begun on S3
        raise RuntimeError("the client went away")
    assert leftovers(store) == []


def test_a_50_mb_upload_streams_through_without_being_held_in_memory(store, tmp_path):
    size = 50 * 1024 * 1024
    source = tmp_path / "big.bin"
    with open(source, "wb") as out:
        for _ in range(size // (1024 * 1024)):
            out.write(os.urandom(1024 * 1024))
    tracemalloc.start()
    try:
        with open(source, "rb") as stream, store.receive() as incoming:
            while chunk := stream.read(1024 * 1024):
                incoming.write(chunk)
            stored = incoming.commit()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored.size == size
    assert peak < size / 2, f"peak {peak / 2**20:.1f} MiB for a {size / 2**20:.0f} MiB file"
    with open(source, "rb") as original:
        expected = hashlib.sha256()
        while chunk := original.read(1024 * 1024):
            expected.update(chunk)
    assert stored.sha256 == expected.hexdigest()
    streamed = store.open(stored.key)
    try:
        received = hashlib.sha256()
        while chunk := streamed.read(1024 * 1024):
            received.update(chunk)
    finally:
        streamed.close()
    assert received.hexdigest() == stored.sha256


def test_nothing_is_read_into_memory_by_open(local_store):
    stored = put(local_store, os.urandom(1000))
    with local_store.open(stored.key) as stream:
        assert isinstance(stream, io.BufferedReader)
