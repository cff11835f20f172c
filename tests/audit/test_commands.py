"""``dangan verify-audit`` and ``dangan prune-audit``: the chain is checked from the command line,
and pruning keeps six months at least and leaves a chain that still verifies."""

import datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from dangan.audit.models import AuditAnchor, AuditEvent
from dangan.audit.services import record_event, verify_chain

pytestmark = pytest.mark.django_db


def _events(n):
    for i in range(n):
        record_event(actor=None, action=AuditEvent.Action.READ, object_repr=f"entry {i}")


def test_verify_audit_prints_the_result_and_fails_on_a_broken_chain(capsys):
    _events(3)
    call_command("verify_audit")
    assert "3" in capsys.readouterr().out
    AuditEvent.objects.filter(object_repr="entry 1").update(object_repr="edited")
    with pytest.raises(CommandError):  # a non-zero exit status
        call_command("verify_audit")


def test_prune_refuses_anything_under_six_months():
    with pytest.raises(CommandError, match="180"):
        call_command("prune_audit", older_than=179)


def test_pruning_old_entries_leaves_a_verifiable_chain():
    _events(5)
    old = timezone.now() - datetime.timedelta(days=400)
    first_three = list(AuditEvent.objects.order_by("id").values_list("id", flat=True)[:3])
    AuditEvent.objects.filter(id__in=first_three).update(at=old)  # breaks their digests…
    # …so re-chain the test's back-dated entries the way they would have been written
    from dangan.audit.services import _digest

    previous = ""
    for row in AuditEvent.objects.order_by("id"):
        row.previous_digest = previous
        row.digest = previous = _digest(previous, row)
        row.save(update_fields=["previous_digest", "digest"])
    from dangan.audit.models import AuditHead

    AuditHead.objects.update(digest=previous)
    assert verify_chain() == []

    call_command("prune_audit", older_than=365)
    assert AuditEvent.objects.filter(at__lt=old + datetime.timedelta(days=1)).count() == 0
    assert AuditAnchor.objects.get().removed == 3
    prune = AuditEvent.objects.get(action="prune")
    assert prune.detail["removed"] == 3
    assert verify_chain() == []
    _events(1)
    assert verify_chain() == []


def test_an_anchor_moved_behind_the_chains_back_breaks_it():
    _events(3)
    second = AuditEvent.objects.order_by("id")[1]
    AuditAnchor.objects.create(
        at=timezone.now(),
        chain=second.chain,
        first_kept_id=second.id,
        digest="0" * 64,
        removed=1,
    )
    assert verify_chain()
