import pytest

from dangan.accounts.models import Role, Secrecy


@pytest.fixture
def leader(make_user):
    return make_user(role=Role.LEADER, first_name="王局长")


@pytest.fixture
def reader(make_user, category):
    """An archivist whose grant reaches only internal records of another category."""
    from dangan.catalogue.models import Category

    other = Category.objects.exclude(pk=category.pk).first()
    return make_user(grants=[{"category": other, "max_secrecy": Secrecy.INTERNAL}])


@pytest.fixture
def open_record(make_record):
    """An open, public, filed record that names a private person (with an ID number)."""

    def make(**values):
        return make_record(
            openness="open",
            secrecy=Secrecy.PUBLIC,
            person={"name": "李秀英", "id_number": "110101199003074514"},
            **values,
        )

    return make
