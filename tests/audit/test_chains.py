"""Writers of the audit trail do not wait for each other: each appends to a chain no other open
transaction holds, and ``verify-audit`` proves every chain whole, however they interleave."""

import datetime
import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from dangan.audit import services
from dangan.audit.models import AuditAnchor, AuditEvent, AuditHead
from dangan.audit.services import record_event, verify_chain


def _read(label):
    record_event(actor=None, action=AuditEvent.Action.READ, object_repr=label)


def _in_chain(chain, label, monkeypatch):
    """Append one entry to ``chain`` whatever the database (SQLite has no row locks to skip)."""
    head, _ = AuditHead.objects.get_or_create(pk=chain)
    monkeypatch.setattr(services, "_take_head", lambda: AuditHead.objects.get(pk=head.pk))
    _read(label)
    monkeypatch.undo()


@pytest.mark.django_db(transaction=True)
def test_many_writers_at_once_leave_a_trail_that_verifies(capsys):
    errors = []

    def write(n):
        try:
            for i in range(10):
                with transaction.atomic():
                    _read(f"writer {n} entry {i} a")
                    _read(f"writer {n} entry {i} b")
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert AuditEvent.objects.count() == 120
    assert verify_chain() == []
    call_command("verify_audit")
    assert "120" in capsys.readouterr().out


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_a_writer_does_not_wait_for_a_long_transaction_holding_a_chain():
    holding, done = threading.Event(), threading.Event()
    errors = []

    def long_import():
        try:
            with transaction.atomic():
                _read("import begins")
                holding.set()
                # The import goes on (holding its chain) until the other writer has finished.
                assert done.wait(timeout=30), "the other writer waited for the import"
                _read("import ends")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    def reader():
        try:
            holding.wait(timeout=30)
            for i in range(5):
                _read(f"a read while the import runs {i}")
            done.set()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=long_import), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    chains = dict(AuditEvent.objects.values_list("object_repr", "chain"))
    assert chains["import begins"] == chains["import ends"]
    assert chains["a read while the import runs 0"] != chains["import begins"]
    assert AuditHead.objects.count() == 2
    assert verify_chain() == []


@pytest.mark.django_db
def test_an_entry_moved_to_another_chain_breaks_both(monkeypatch):
    for i in range(3):
        _in_chain(1, f"one {i}", monkeypatch)
        _in_chain(2, f"two {i}", monkeypatch)
    assert verify_chain() == []
    moved = AuditEvent.objects.get(object_repr="two 1")
    AuditEvent.objects.filter(pk=moved.pk).update(chain=1)
    broken = verify_chain()
    assert moved.pk in broken
    assert AuditEvent.objects.get(object_repr="two 2").pk in broken


@pytest.mark.django_db
def test_the_newest_entries_of_a_chain_removed_break_it(monkeypatch):
    for i in range(3):
        _in_chain(1, f"one {i}", monkeypatch)
        _in_chain(2, f"two {i}", monkeypatch)
    AuditEvent.objects.filter(object_repr="two 2").delete()  # the tail: nothing after it to break
    assert verify_chain() == [AuditEvent.objects.get(object_repr="two 1").pk]
    AuditEvent.objects.filter(chain=2).delete()
    assert verify_chain() == [0]


@pytest.mark.django_db
def test_pruning_anchors_each_chain_and_the_trail_still_verifies(monkeypatch):
    for i in range(3):
        _in_chain(1, f"one {i}", monkeypatch)
        _in_chain(2, f"two {i}", monkeypatch)
    old = timezone.now() - datetime.timedelta(days=400)
    AuditEvent.objects.filter(object_repr__in=["one 0", "one 1", "two 0"]).update(at=old)
    for chain in (1, 2):  # re-chain the back-dated entries the way they would have been written
        previous = ""
        for row in AuditEvent.objects.filter(chain=chain).order_by("id"):
            row.previous_digest = previous
            row.digest = previous = services._digest(previous, row)
            row.save(update_fields=["previous_digest", "digest"])
        AuditHead.objects.filter(pk=chain).update(digest=previous)
    assert verify_chain() == []

    assert services.prune(actor=None, older_than_days=365) == 3
    anchors = {a.chain: a for a in AuditAnchor.objects.all()}
    assert (anchors[1].removed, anchors[2].removed) == (2, 1)
    assert set(AuditEvent.objects.values_list("object_repr", flat=True)) >= {"one 2", "two 1"}
    assert verify_chain() == []
    _in_chain(2, "two after", monkeypatch)
    assert verify_chain() == []
    AuditAnchor.objects.filter(chain=2).update(digest="0" * 64)
    assert AuditEvent.objects.get(object_repr="two 1").pk in verify_chain()
