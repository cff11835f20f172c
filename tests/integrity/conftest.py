"""The content stores of tests/content (local disk and moto's S3 server) for the integrity tests."""

from tests.content.conftest import local_store, s3_endpoint, s3_store, store  # noqa: F401
