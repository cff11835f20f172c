import pytest

from dangan.accounts.models import Role, Secrecy, Unit


@pytest.fixture(autouse=True)
def checklist(db):
    """The shipped checklist, put back for tests that run in an emptied (transactional) database."""
    from django.apps import apps

    from dangan.oversight import checklist as shipped

    shipped.install(apps)


@pytest.fixture
def town(db):
    return Unit.objects.get_or_create(
        code="T01", defaults={"name": "城关镇社保所", "kind": Unit.Kind.TOWN}
    )[0]


@pytest.fixture
def other_town(db):
    return Unit.objects.get_or_create(
        code="T02", defaults={"name": "河口镇社保所", "kind": Unit.Kind.TOWN}
    )[0]


@pytest.fixture
def county(make_user):
    """The county archivist who steers the units."""
    return make_user(role=Role.ARCHIVIST, first_name="档案馆", last_name="")


@pytest.fixture
def town_clerk(make_user, town):
    return make_user(role=Role.TOWN_CLERK, unit=town, grants=())


@pytest.fixture
def keepers(make_user, town, fonds):
    """The town's outgoing keeper (rights on the town's records), the incoming one (no rights
    yet), and a witness from the county."""
    grant = {"fonds": fonds, "unit": town, "max_secrecy": Secrecy.CONFIDENTIAL}
    old = make_user(role=Role.TOWN_CLERK, unit=town, grants=[grant], first_name="老王")
    new = make_user(role=Role.TOWN_CLERK, unit=town, grants=(), first_name="小李")
    witness = make_user(role=Role.LEADER, grants=(), first_name="张科长")
    return old, new, witness
