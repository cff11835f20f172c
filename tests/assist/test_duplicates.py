"""Duplicates proposed, never applied: the same retiree under a 15- and an 18-digit number, in
traditional characters, with a mistyped digit; the same file catalogued twice; the same page
scanned twice at two resolutions. A person decides; a rejected pair is not proposed again."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from PIL import Image
from stdnum.cn import ric

from dangan.accounts.models import Unit
from dangan.assist import duplicates, services
from dangan.assist.models import DuplicateProposal
from dangan.audit.models import AuditEvent
from dangan.catalogue.models import RecordRelation
from dangan.content.services import add_files
from dangan.people.models import Person, PersonMerge, RecordPerson

from .samples import scan

pytestmark = pytest.mark.django_db

BODY = "32092519430401680"  # 罗凤秀, born 1943-04-01, a woman (8 even)
NUMBER = BODY + ric.calc_check_digit(BODY + "0")


def number(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture(autouse=True)
def places(settings, tmp_path):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    settings.DANGAN_LEDGER_WITNESS_DIR = str(tmp_path / "witness")


@pytest.fixture
def unit(db):
    return Unit.objects.create(code="RCZX", name="县人才交流中心", kind=Unit.Kind.BUSINESS)


def person_pairs():
    return {(p.a, p.b): p for p in duplicates.person_pairs()}


def pair_of(x, y):
    return tuple(sorted((x.pk, y.pk)))


def test_seeded_twins_are_all_proposed_and_nothing_else(make_record, archivist, unit):
    make_record(actor=archivist, person={"id_number": NUMBER, "name": "罗凤秀"}, unit=unit)
    original = Person.objects.get(id_number=NUMBER)
    # An old register's row kept the 15-digit number as it was typed.
    old = Person.objects.create(
        id_number=BODY[:6] + BODY[8:],
        name="罗凤秀",
        name_folded="罗凤秀",
        sex="F",
        birth_date=original.birth_date,
    )
    # One digit of the order code mistyped; the check digit computed again (it passes).
    typo_number = number(BODY[:15] + "9" + BODY[16])
    make_record(actor=archivist, person={"id_number": typo_number, "name": "罗凤秀"}, unit=unit)
    typo = Person.objects.get(id_number=typo_number)
    # In traditional characters under an unrelated number, in the same unit.
    other_number = number(BODY[:14] + "240")
    make_record(actor=archivist, person={"id_number": other_number, "name": "羅鳳秀"}, unit=unit)
    traditional = Person.objects.get(id_number=other_number)
    # Not proposed: born a day later (the typo is in the date of birth); a man; another name.
    make_record(
        actor=archivist, person={"id_number": number(BODY[:12] + "02680"), "name": "罗凤秀"}
    )
    make_record(actor=archivist, person={"id_number": number(BODY[:16] + "7"), "name": "罗凤秀"})
    make_record(
        actor=archivist, person={"id_number": number(BODY[:15] + "3" + BODY[16]), "name": "王凤秀"}
    )

    found = person_pairs()
    assert found[pair_of(original, old)].reason.startswith("id_15_18+name_same")
    assert found[pair_of(original, typo)].reason.startswith("id_typo+name_same")
    assert found[pair_of(original, traditional)].reason == "id_other+name_script+birth_sex+unit"
    # The twins of the original are twins of each other too; nothing else is proposed.
    named = {old.pk, typo.pk, traditional.pk, original.pk}
    assert {x for pair in found for x in pair} == named
    assert all(f.score >= 0.7 for f in found.values())


def test_a_homophone_twin_one_digit_apart_is_proposed(make_record, archivist):
    make_record(actor=archivist, person={"id_number": NUMBER, "name": "刘伟"})
    make_record(
        actor=archivist, person={"id_number": number(BODY[:5] + "4" + BODY[6:]), "name": "柳炜"}
    )
    (found,) = duplicates.person_pairs()
    assert found.reason == "id_typo+name_sound+birth_sex"


def test_the_command_lists_proposals_as_json_and_a_rejected_pair_is_not_proposed_again(
    make_record, archivist, capsys
):
    make_record(actor=archivist, person={"id_number": NUMBER, "name": "罗凤秀"})
    make_record(
        actor=archivist, person={"id_number": number(BODY[:15] + "9" + BODY[16]), "name": "罗凤秀"}
    )
    call_command("duplicates", kind="persons", json=True)
    (listed,) = json.loads(capsys.readouterr().out)
    assert set(listed) == {"kind", "a", "b", "score", "reason"}
    assert listed["kind"] == "persons" and listed["a"] < listed["b"]
    proposal = DuplicateProposal.objects.get()
    services.reject_duplicate(actor=archivist, proposal=proposal, note="两人，户籍核实")
    call_command("duplicates", kind="persons", json=True)
    assert json.loads(capsys.readouterr().out) == []
    assert DuplicateProposal.objects.get().state == "rejected"
    assert AuditEvent.objects.filter(object_type="assist.duplicateproposal").count() == 1


def test_an_accepted_person_pair_is_merged_keeping_both_histories(make_record, archivist):
    first = make_record(actor=archivist, person={"id_number": NUMBER, "name": "罗凤秀"})
    second_number = number(BODY[:15] + "9" + BODY[16])
    second = make_record(actor=archivist, person={"id_number": second_number, "name": "罗凤秀"})
    third = make_record(actor=archivist, person={"id_number": second_number, "name": "罗凤秀"})
    services.scan_duplicates(kinds=["persons"])
    proposal = DuplicateProposal.objects.get()
    services.accept_duplicate(actor=archivist, proposal=proposal, reason="同一人，据户籍证明")
    kept = Person.objects.get(id_number=second_number)  # the one with more records
    merged = Person.objects.get(id_number=NUMBER)
    assert merged.merged_into == kept
    assert set(RecordPerson.objects.filter(person=kept).values_list("record_id", flat=True)) == {
        first.pk,
        second.pk,
        third.pk,
    }
    assert PersonMerge.objects.get().reason == "同一人，据户籍证明"
    # Both rows stay, with their audit trails; the merge is the people app's, undoable.
    assert (
        AuditEvent.objects.filter(object_type="people.person", object_id=str(merged.pk)).count()
        >= 2
    )
    assert DuplicateProposal.objects.get().state == "accepted"
    # A scan after the merge proposes nothing new (the merged row is no longer a person apart).
    assert services.scan_duplicates(kinds=["persons"])["persons"]["new"] == 0


def test_persons_whose_birth_dates_differ_are_never_merged(make_record, archivist):
    a = make_record(actor=archivist, person={"id_number": NUMBER, "name": "罗凤秀"})
    b = make_record(
        actor=archivist, person={"id_number": number(BODY[:12] + "02680"), "name": "罗凤秀"}
    )
    x, y = a.persons.get(), b.persons.get()
    forced = DuplicateProposal.objects.create(
        kind="persons", a=min(x.pk, y.pk), b=max(x.pk, y.pk), score=1, reason="id_typo"
    )
    with pytest.raises(Exception, match="never merged"):
        services.accept_duplicate(actor=archivist, proposal=forced, reason="合并")
    assert not PersonMerge.objects.exists()
    assert DuplicateProposal.objects.get().state == "open"


def test_persons_whose_sexes_differ_are_neither_proposed_nor_merged(make_record, archivist):
    # One digit of the order code apart, the same name and date of birth: only the sex differs
    # (the order code's last digit is odd for a man, even for a woman).
    a = make_record(actor=archivist, person={"id_number": NUMBER, "name": "罗凤秀"})
    b = make_record(
        actor=archivist, person={"id_number": number(BODY[:16] + "7"), "name": "罗凤秀"}
    )
    x, y = a.persons.get(), b.persons.get()
    assert x.sex != y.sex and x.birth_date == y.birth_date
    assert duplicates.person_pairs() == []
    forced = DuplicateProposal.objects.create(
        kind="persons", a=min(x.pk, y.pk), b=max(x.pk, y.pk), score=1, reason="id_typo"
    )
    with pytest.raises(Exception, match="never merged"):
        services.accept_duplicate(actor=archivist, proposal=forced, reason="合并")
    assert not PersonMerge.objects.exists()


def test_a_record_catalogued_twice_is_proposed_and_accepting_relates_them(
    make_record, archivist, fonds
):
    person = {"id_number": NUMBER, "name": "罗凤秀"}
    a = make_record(
        actor=archivist,
        person=person,
        title="罗凤秀失业人员档案托管登记表",
        doc_number="建人社〔1993〕12号",
    )
    b = make_record(
        actor=archivist,
        person=person,
        title="罗凤秀失业人员档案托管登记表。",
        doc_number="建人社〔1993〕12号",
    )
    make_record(
        actor=archivist,
        person=person,
        title="罗凤秀失业人员档案托管登记表",
        year=2002,
        date=datetime.date(2002, 1, 1),
    )
    make_record(actor=archivist, title="罗凤秀失业人员档案托管登记表")  # without the person
    (found,) = duplicates.record_pairs()
    assert (found.a, found.b) == (a.pk, b.pk)
    assert found.reason == "title+date+doc_number+persons+same_fonds"
    services.scan_duplicates(kinds=["records"])
    proposal = DuplicateProposal.objects.get(kind="records")
    services.accept_duplicate(actor=archivist, proposal=proposal, reason="重复著录")
    assert RecordRelation.objects.get().kind == "see_also"


def png_at(image: Image.Image, scale: float, quality=None) -> bytes:
    size = (int(image.width * scale), int(image.height * scale))
    out = io.BytesIO()
    resized = image.resize(size, Image.Resampling.LANCZOS)
    if quality:
        resized.convert("RGB").save(out, "JPEG", quality=quality)
    else:
        resized.save(out, "PNG")
    return out.getvalue()


def test_a_page_scanned_twice_at_two_resolutions_is_proposed(make_record, archivist):
    first, second, other = (scan(i) for i in range(3))
    a = make_record(actor=archivist)
    b = make_record(actor=archivist)
    pages_a = add_files(
        actor=archivist,
        record=a,
        files=[("1.png", io.BytesIO(png_at(first, 1))), ("2.png", io.BytesIO(png_at(second, 1)))],
    )
    pages_b = add_files(
        actor=archivist,
        record=b,
        files=[
            ("1.jpg", io.BytesIO(png_at(first, 0.5, quality=60))),
            ("2.png", io.BytesIO(png_at(other, 1))),
        ],
    )
    summary = services.scan_duplicates(kinds=["pages"])
    assert summary["pages"]["found"] == 1
    proposal = DuplicateProposal.objects.get(kind="pages")
    assert (proposal.a, proposal.b) == (pages_a[0].pk, pages_b[0].pk)
    assert proposal.reason == "image+other_record"


def test_the_duplicates_page_lists_pairs_and_accepts_and_rejects(
    make_record, archivist, logged_in, make_user
):
    make_record(actor=archivist, person={"id_number": NUMBER, "name": "罗凤秀"})
    make_record(
        actor=archivist, person={"id_number": number(BODY[:15] + "9" + BODY[16]), "name": "罗凤秀"}
    )
    services.scan_duplicates(kinds=["persons"])
    proposal = DuplicateProposal.objects.get()
    client = logged_in(archivist)
    page = client.get(reverse("assist:duplicate-list"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "罗凤秀" in text and NUMBER not in text  # numbers masked
    assert f'data-proposal="{proposal.pk}"' in text
    refused = client.post(reverse("assist:duplicate-accept", args=[proposal.pk]), {"reason": ""})
    assert refused.status_code == 302
    assert DuplicateProposal.objects.get().state == "open"
    client.post(reverse("assist:duplicate-accept", args=[proposal.pk]), {"reason": "同一人"})
    assert DuplicateProposal.objects.get().state == "accepted"
    assert Person.objects.filter(merged_into__isnull=False).count() == 1
    # A reader without grants sees no pair and may decide none.
    stranger = make_user(grants=())
    assert (
        logged_in(stranger).post(reverse("assist:duplicate-reject", args=[proposal.pk])).status_code
        == 404
    )


def test_no_proposal_among_500_distinct_demo_persons(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("demo", persons=500, seed=21, verbosity=0)
    assert Person.objects.count() == 500
    assert duplicates.person_pairs() == []
    assert duplicates.record_pairs() == []
