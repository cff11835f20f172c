"""Two-factor secrets are sealed in the database: a copy of the database gives no codes."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from dangan.accounts import twofactor
from dangan.accounts.models import TwoFactorDevice

pytestmark = pytest.mark.django_db


def stored_secret(device) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT secret FROM {TwoFactorDevice._meta.db_table} WHERE id = %s", [device.pk]
        )
        return cursor.fetchone()[0]


def test_the_secret_is_sealed_in_the_database_and_plain_in_python(archivist):
    secret = twofactor.new_secret()
    device = TwoFactorDevice.objects.create(user=archivist, secret=secret, confirmed=True)
    raw = stored_secret(device)
    assert raw.startswith(twofactor.SEALED_PREFIX) and secret not in raw
    assert TwoFactorDevice.objects.get(pk=device.pk).secret == secret
    assert twofactor.seal_secret(secret) != twofactor.seal_secret(secret)  # random nonce


def test_a_changed_secret_key_opens_through_the_fallbacks_only(archivist, settings):
    secret = twofactor.new_secret()
    device = TwoFactorDevice.objects.create(user=archivist, secret=secret)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a new key " + "x" * 50
    assert TwoFactorDevice.objects.get(pk=device.pk).secret == ""  # no device: reset needed
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert TwoFactorDevice.objects.get(pk=device.pk).secret == secret


def test_the_migration_seals_secrets_stored_in_the_clear(archivist):
    secret = twofactor.new_secret()
    device = TwoFactorDevice.objects.create(user=archivist, secret=secret)
    with connection.cursor() as cursor:  # as an installation before the migration kept it
        cursor.execute(
            f"UPDATE {TwoFactorDevice._meta.db_table} SET secret = %s WHERE id = %s",
            [secret, device.pk],
        )
    assert TwoFactorDevice.objects.get(pk=device.pk).secret == secret  # still readable
    migration = importlib.import_module("dangan.accounts.migrations.0005_two_factor_secret_sealed")
    editor = SimpleNamespace(connection=connection, quote_name=connection.ops.quote_name)
    migration.seal_existing(apps, editor)
    assert stored_secret(device).startswith(twofactor.SEALED_PREFIX)
    assert TwoFactorDevice.objects.get(pk=device.pk).secret == secret
    migration.open_existing(apps, editor)
    assert stored_secret(device) == secret
