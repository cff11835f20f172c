"""``dangan demo``: consistent demo data in every category, through the real services."""

import json

import pytest
from django.core.management import call_command

from dangan.accounts.models import Role, Secrecy, User
from dangan.audit.models import AuditEvent
from dangan.audit.services import verify_chain
from dangan.catalogue import bureau
from dangan.catalogue.models import Record
from dangan.catalogue.schema import clean_metadata
from dangan.catalogue.selectors import visible_records
from dangan.demo.generator import REGIONS
from dangan.people import id_numbers
from dangan.people.models import Person

pytestmark = pytest.mark.django_db
#: The scanned forms and their OCR are tested in test_scans.py; here they would cost seconds.
QUICK = {"no_scans": True, "read_later": True}


@pytest.fixture(autouse=True)
def fast_hashing(settings, tmp_path):
    """Eight demo users with Argon2 would cost seconds a test; the hasher is not under test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DATA_DIR = tmp_path


@pytest.fixture
def demo(tmp_path):
    call_command("demo", persons=20, seed=11, verbosity=0, **QUICK)
    return tmp_path


def test_persons_have_valid_id_numbers_agreeing_with_sex_and_birth(demo):
    persons = list(Person.objects.all())
    assert len(persons) == 20
    for person in persons:
        checked = id_numbers.normalize(person.id_number)
        assert checked.sex == person.sex
        assert checked.birth_date == person.birth_date
        assert person.id_number[:6] in {code for code, _weight in REGIONS}


def test_every_category_gets_filed_records_with_archival_codes(demo):
    codes = {c["code"] for c in bureau.CATEGORIES}
    assert set(Record.objects.values_list("category__code", flat=True)) == codes
    assert not Record.objects.exclude(state=Record.State.FILED).exists()
    assert not Record.objects.filter(archival_code__isnull=True).exists()


def test_metadata_is_already_clean_against_each_category_schema(demo):
    for record in Record.objects.select_related("category").prefetch_related("category__fields"):
        assert (
            clean_metadata(list(record.category.fields.all()), record.metadata) == record.metadata
        )


def test_person_records_follow_the_life_of_the_person(demo):
    for record in Record.objects.filter(category__code__in=["TX", "SYTG", "KG"]).prefetch_related(
        "persons"
    ):
        (person,) = record.persons.all()
        assert record.date > person.birth_date.replace(year=person.birth_date.year + 16)
        start = record.metadata.get("work_start")
        if start:
            assert start[:4] >= str(person.birth_date.year + 16)


def test_creation_is_audited_in_an_unbroken_chain(demo):
    created = AuditEvent.objects.filter(action=AuditEvent.Action.CREATE)
    assert created.filter(object_type="catalogue.record").count() == Record.objects.count()
    assert created.filter(object_type="people.person").count() == 20
    assert verify_chain() == []


def test_demo_users_get_their_roles_grants_and_the_printed_password(demo):
    password = (demo / "demo-password").read_text().strip()
    users = {u.username: u for u in User.objects.prefetch_related("grants")}
    for name in ["archivist", "tx_clerk", "reading", "leader", "shanggang"]:
        assert users[name].check_password(password)
    assert users["reading"].role == Role.READING_CLERK
    assert users["leader"].role == Role.LEADER
    assert [g.max_secrecy for g in users["archivist"].grants.all()] == [Secrecy.SECRET]
    assert visible_records(users["archivist"]).count() == Record.objects.count()
    assert not visible_records(users["auditor"]).exists()


def test_the_retirement_clerk_sees_only_retirement_files(demo):
    clerk = User.objects.get(username="tx_clerk")
    seen = visible_records(clerk)
    assert seen.exists()
    assert set(seen.values_list("category__code", flat=True)) == {"TX"}


def test_running_twice_adds_more_without_errors(demo, capsys):
    records = Record.objects.count()
    call_command("demo", persons=5, seed=11, json=True, **QUICK)
    summary = json.loads(capsys.readouterr().out)
    assert summary["persons"] == 5
    assert summary["users_created"] == []
    assert Person.objects.count() == 25
    assert Record.objects.count() == records + summary["records"]


def test_output_shows_the_password_but_no_id_number(tmp_path, capsys):
    call_command("demo", persons=3, seed=5, **QUICK)
    out = capsys.readouterr().out
    assert (tmp_path / "demo-password").read_text().strip() in out
    for number in Person.objects.values_list("id_number", flat=True):
        assert number not in out


def test_the_archive_is_shown_at_work(demo):
    from dangan.access.models import AccessRequest, Loan, Use, Visit
    from dangan.appraisal.models import Hold
    from dangan.oversight.models import Survey

    reading = User.objects.get(username="reading")
    visits = Visit.objects.all()
    assert visits.count() >= 3 and all(v.clerk == reading for v in visits)
    consulted = Use.objects.filter(visit__in=visits)
    assert consulted.exists()
    assert set(consulted.values_list("record", flat=True)) <= set(
        visible_records(reading).values_list("pk", flat=True)
    )
    assert Loan.objects.filter(returned_at__isnull=True).count() == 3
    assert AccessRequest.objects.filter(state=AccessRequest.State.SUBMITTED).exists()
    # Every copy delivered certifies pages of its record, none is a cover above nothing.
    delivered = AccessRequest.objects.filter(state=AccessRequest.State.DELIVERED)
    assert delivered.exists()
    assert all(req.record.pages.exists() for req in delivered)
    assert Hold.objects.count() == 2
    assert Survey.objects.filter(closed_at__isnull=True).exists()
    # Person files kept as volumes: assembled from three items, with a note and a relation.
    from dangan.catalogue import volumes
    from dangan.catalogue.models import Record, RecordRelation

    assembled = Record.objects.filter(level="volume", items__isnull=False).distinct()
    assert assembled.count() == 2
    for volume in assembled:
        items = volumes.volume_items(volume)
        assert [i.title for i in items] == ["退休审批表", "养老金核定表", "[工龄认定说明]"]
        lines = volumes.volume_lines(items)
        assert [(line.first_page, line.last_page) for line in lines] == [(1, 2), (3, 5), (6, 6)]
        assert (
            volume.note.notes
            and RecordRelation.objects.filter(
                source=items[1], target=items[0], kind="attachment"
            ).exists()
        )
    assert verify_chain() == []


def test_a_new_user_sees_a_compilation_of_each_kind_and_a_published_exhibition(demo, client):
    from dangan.compilation.models import Compilation, Exhibition

    kinds = set(Compilation.objects.filter(entries__isnull=False).values_list("kind", flat=True))
    assert kinds == {"topic", "chronicle", "orghistory"}
    assert Compilation.objects.filter(kind="topic", approved_version__isnull=False).exists()
    exhibition = Exhibition.objects.get(state=Exhibition.State.PUBLISHED)
    page = client.get(f"/exhibitions/{exhibition.slug}/").content.decode()
    shown = exhibition.sections.get().exhibits.all()
    assert shown and all(exhibit.archival_code in page for exhibit in shown)
    call_command("demo", persons=2, seed=12, verbosity=0, **QUICK)  # a second run makes none again
    assert Exhibition.objects.count() == 1 and Compilation.objects.count() == 3
