"""交接: the custody hand-over list is drawn from the data, signed by three people, and moves the
outgoing keeper's rights to the incoming one only with the last signature."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dangan.accounts.models import Grant
from dangan.audit.models import AuditEvent
from dangan.catalogue.selectors import visible_records
from dangan.oversight import services
from dangan.oversight.models import CustodyHandover, Keeper
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def town_records(make_record, town):
    return [make_record(unit=town), make_record(unit=town)]


@pytest.fixture
def handover(county, town, keepers, town_records):
    old, new, witness = keepers
    return services.start_custody_handover(
        actor=county, unit=town, outgoing=old, incoming=new, witness=witness
    )


def _sign(handover, user, **kwargs):
    checked = list(handover.items.values_list("pk", flat=True))
    return services.sign_custody_handover(
        actor=user, handover=handover, checked=checked, password=PASSWORD, **kwargs
    )


def test_list_names_the_outgoing_keepers_rights_with_their_record_counts(handover):
    lines = list(handover.items.values_list("kind", "quantity", "ref"))
    grant = Grant.objects.get(user=handover.outgoing)
    assert ("records", 2, f"grant:{grant.pk}") in lines


def test_an_unsigned_handover_moves_no_rights(handover, keepers, town_records):
    old, new, witness = keepers
    _sign(handover, old)
    _sign(handover, witness)  # two of three: still unsigned as a whole
    handover.refresh_from_db()
    assert handover.state == CustodyHandover.State.OPEN
    assert set(visible_records(old)) == set(town_records)
    assert not visible_records(new).exists()
    assert Grant.objects.filter(user=new).count() == 0


def test_after_the_last_signature_the_new_keeper_sees_the_records_and_the_old_one_does_not(
    handover, keepers, town_records, town
):
    old, new, witness = keepers
    Keeper.objects.create(unit=town, user=old, name="老王", since="2020-01-01")
    for user in (new, old, witness):
        _sign(handover, user)
    handover.refresh_from_db()
    assert handover.state == CustodyHandover.State.SIGNED
    assert set(visible_records(new)) == set(town_records)
    assert not visible_records(old).exists()
    assert Keeper.objects.get(user=old).until is not None
    assert Keeper.objects.get(user=new).until is None
    moved = AuditEvent.objects.filter(object_type="accounts.user", object_id=str(new.pk))
    assert moved.filter(after__custody_handover=handover.pk).exists()


def test_a_signature_needs_every_line_checked(handover, keepers):
    old, _new, _witness = keepers
    with pytest.raises(ValidationError) as caught:
        services.sign_custody_handover(actor=old, handover=handover, checked=[], password=PASSWORD)
    assert caught.value.code == "unchecked"


def test_a_wrong_password_signs_nothing_and_counts_as_a_failure(handover, keepers):
    from axes.models import AccessFailureLog

    old, _new, _witness = keepers
    checked = list(handover.items.values_list("pk", flat=True))
    with pytest.raises(ValidationError):
        services.sign_custody_handover(
            actor=old, handover=handover, checked=checked, password="wrong password 1"
        )
    assert not handover.signatures.exists()
    assert AccessFailureLog.objects.filter(username=old.username).count() == 1


def test_only_the_three_parties_sign(handover, county):
    with pytest.raises(PermissionDenied):
        _sign(handover, county)


def test_keys_are_added_by_hand_before_anyone_signs(handover, county, keepers):
    services.add_custody_item(actor=county, handover=handover, description="库房钥匙 2 把")
    _sign(handover, keepers[0])
    with pytest.raises(ValidationError):
        services.add_custody_item(actor=county, handover=handover, description="印章")


def test_the_parties_are_three_different_people(county, town, keepers):
    old, new, _witness = keepers
    with pytest.raises(ValidationError):
        services.start_custody_handover(
            actor=county, unit=town, outgoing=old, incoming=new, witness=old
        )


def test_rights_never_pass_to_an_administrator_or_a_citizen(county, town, keepers, make_user):
    from dangan.accounts.models import Role

    old, _new, witness = keepers
    admin = make_user(role=Role.SYSTEM_ADMIN, unit=town, grants=())
    with pytest.raises(ValidationError):
        services.start_custody_handover(
            actor=county, unit=town, outgoing=old, incoming=admin, witness=witness
        )


def test_open_access_requests_and_loans_are_on_the_list(county, town, keepers, town_records):
    import datetime

    from django.apps import apps

    if not apps.is_installed("dangan.access"):
        pytest.skip("the access app is not installed")
    loan = apps.get_model("access", "Loan")
    loan.objects.create(
        record=town_records[0],
        borrower_name="借阅人",
        purpose="work",
        lent_by=county,
        due_on=datetime.date(2030, 1, 1),
    )
    old, new, witness = keepers
    handover = services.start_custody_handover(
        actor=county, unit=town, outgoing=old, incoming=new, witness=witness
    )
    assert handover.items.get(kind="loan").quantity == 1
