"""The golden behaviour of search (issue 4), on whichever database the suite runs."""

import datetime
import json
from io import StringIO

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from dangan.accounts.models import Secrecy
from dangan.catalogue.models import Category, Record
from dangan.catalogue.services import create_record, file_record, update_record
from dangan.search.selectors import search


def _codes(results):
    return [hit.record.pk for hit in results.hits]


def test_a_traditional_name_finds_the_simplified_record_and_the_reverse(
    archivist, make_record, id_number
):
    simplified = make_record(person={"id_number": id_number(), "name": "万平德"})
    traditional = make_record(person={"id_number": id_number(), "name": "劉曉華"})

    assert _codes(search(archivist, "萬平德")) == [simplified.pk]
    assert _codes(search(archivist, "刘晓华")) == [traditional.pk]


def test_the_last_six_digits_and_the_15_digit_form_find_the_person(
    archivist, make_record, id_number
):
    number = id_number()
    record = make_record(person={"id_number": number, "name": "张建国"})
    make_record(person={"id_number": id_number(), "name": "李四"})

    assert _codes(search(archivist, number[-6:])) == [record.pk]
    assert _codes(search(archivist, number[:6] + number[8:17])) == [record.pk]
    assert _codes(search(archivist, number)) == [record.pk]
    persons = search(archivist, number[-4:], mode="persons").persons
    assert [p.person.name for p in persons] == ["张建国"]
    assert number not in persons[0].masked_id


def test_a_two_character_name_ranks_its_exact_person_first(archivist, make_record, id_number):
    for name in ["王伟民", "李王伟", "王伟东"]:
        make_record(
            person={"id_number": id_number(), "name": name},
            title=f"{name}失业人员托管档案（王伟）",
        )
    exact = make_record(person={"id_number": id_number(), "name": "王伟"})

    results = search(archivist, "王伟")

    assert results.total == 4
    assert results.hits[0].record.pk == exact.pk
    assert search(archivist, "王伟", mode="persons").persons[0].person.name == "王伟"


def test_a_phrase_from_a_scanned_page_finds_its_record_with_the_page_number(
    archivist, make_record, scanned_page
):
    record = make_record(title="[失业保险金申领材料]")
    other = make_record(title="[其他材料]")
    scanned_page(record, position=1, text="封面\n失业保险金申领登记表")
    scanned_page(
        record, position=3, text="本人于一九九八年在建湖县纺织厂从事挡车工作，后因企业改制下岗。"
    )
    scanned_page(other, position=1, text="纺织品质量检验报告")

    results = search(archivist, "建湖縣紡織廠")

    assert _codes(results) == [record.pk]
    snippet = next(s for s in results.hits[0].snippets if s.page is not None)
    assert snippet.page == 3
    assert "<mark>建湖县纺织厂</mark>" in snippet.html


def test_a_user_without_rights_on_a_category_gets_no_hit_count_or_facet_from_it(
    make_user, make_record, id_number, logged_in
):
    custody = Category.objects.get(code="SYTG")
    pensions = Category.objects.get(code="TX")
    seen = make_record(person={"id_number": id_number(), "name": "赵敏"})
    hidden = make_record(
        person={"id_number": id_number(), "name": "赵敏"},
        category=pensions,
        title="赵敏退休审批表（保密）",
    )
    clerk = make_user(grants=[{"category": custody, "max_secrecy": Secrecy.CONFIDENTIAL}])

    results = search(clerk, "赵敏")

    assert _codes(results) == [seen.pk]
    assert results.total == 1
    assert [v.label for v in results.facets["category"]] == [custody.name]
    assert all(v.count == 1 for facet in results.facets.values() for v in facet)
    page = logged_in(clerk).get(reverse("search:search"), {"q": "赵敏"}).content.decode()
    assert "退休审批表" not in page and pensions.name not in page
    filtered = search(clerk, "赵敏", filters={"category": pensions.pk})
    assert filtered.hits == [] and filtered.total == 0
    assert hidden.pk not in _codes(search(clerk, "保密"))


def test_a_user_without_grants_finds_nothing(make_user, make_record):
    make_record(title="[公开材料]")
    assert search(make_user(grants=[]), "公开").total == 0


def test_a_corrected_or_merged_person_is_found_by_the_new_name_and_number_only(
    archivist, make_record, id_number
):
    from dangan.people.models import Person
    from dangan.people.services import correct_person, merge_persons

    number, other_number = id_number(), id_number()
    record = make_record(person={"id_number": number, "name": "成文刚"})
    other = make_record(person={"id_number": other_number, "name": "成文钢"})
    wrong = Person.objects.get(id_number=number)

    correct_person(actor=archivist, person=wrong, name="程文刚", reason="登记表笔误")
    assert _codes(search(archivist, "成文刚")) == []
    assert _codes(search(archivist, "程文刚")) == [record.pk]

    kept = Person.objects.get(id_number=other_number)
    merge_persons(actor=archivist, kept=kept, merged=wrong, reason="同一人")
    assert sorted(_codes(search(archivist, other_number[-6:]))) == sorted([record.pk, other.pk])


def test_the_index_follows_create_change_filing_and_delete_without_a_manual_step(
    archivist, fonds, category
):
    record = create_record(
        actor=archivist,
        fonds=fonds,
        category=category,
        values={
            "title": "关于发放高温补贴的通知",
            "date": datetime.date(2001, 7, 1),
            "responsible": "县人社局",
        },
        file=False,
    )
    assert _codes(search(archivist, "高温补贴")) == [record.pk]

    update_record(actor=archivist, record=record, values={"title": "关于发放取暖补贴的通知"})
    assert _codes(search(archivist, "高温补贴")) == []
    assert _codes(search(archivist, "取暖")) == [record.pk]

    filed = file_record(actor=archivist, record=record)
    assert _codes(search(archivist, filed.archival_code)) == [record.pk]

    Record.objects.filter(pk=record.pk).delete()
    assert search(archivist, "取暖").total == 0


def test_facets_count_hits_and_filters_narrow_them(archivist, make_record):
    make_record(title="工伤认定决定书", year=2001)
    make_record(title="工伤认定申请表", year=2003, date=datetime.date(2003, 1, 1))

    results = search(archivist, "工伤认定")
    years = {v.label: v.count for v in results.facets["year"]}

    assert years == {"2001": 1, "2003": 1}
    assert search(archivist, "工伤认定", filters={"year": 2003}).total == 1


def test_a_change_behind_the_services_back_is_caught_by_reindex_pending(archivist, make_record):
    record = make_record(title="劳动合同鉴证材料")
    Record.objects.filter(pk=record.pk).update(title="劳动仲裁调解书", updated_at=timezone.now())
    assert search(archivist, "仲裁").total == 0  # the index has not seen the change yet

    call_command("reindex", "--pending", stdout=StringIO())

    assert _codes(search(archivist, "仲裁")) == [record.pk]


def test_reindex_rebuilds_the_whole_index(archivist, make_record):
    record = make_record(title="养老保险关系转移接续")
    call_command("reindex", stdout=StringIO())
    assert _codes(search(archivist, "转移接续")) == [record.pk]


def test_the_search_command_prints_hits_as_json(archivist, make_record, id_number):
    record = make_record(
        person={"id_number": id_number(), "name": "陈静"}, legacy_number="退01-0007"
    )
    out = StringIO()

    call_command(
        "search", "陈静", "--user", archivist.username, "--json", stdout=out, stderr=StringIO()
    )

    hits = json.loads(out.getvalue())
    assert [h["archival_code"] for h in hits] == [record.archival_code]
    assert hits[0]["legacy_number"] == "退01-0007"
    assert set(hits[0]) >= {"archival_code", "legacy_number", "title", "score"}


def test_a_legacy_number_is_found_as_typed(archivist, make_record):
    record = make_record(legacy_number="退01-0042")
    make_record(legacy_number="退01-0043")
    assert _codes(search(archivist, "退01-0042"))[0] == record.pk


def test_the_search_page_shows_highlighted_hits_and_facets(archivist, make_record, logged_in):
    make_record(title="失业人员托管协议书")
    client = logged_in(archivist)

    page = client.get(reverse("search:search"), {"q": "托管协议"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "<mark>托管协议</mark>" in html
    assert 'class="facets"' in html
    assert client.get("/").status_code in (200, 302)


def test_the_search_page_and_its_box_are_for_those_who_read_records(make_user, logged_in):
    """Like the catalogue: an administrator (no record reading) is refused the search page and
    its saved searches, and the header shows no search box that would answer 403."""
    from dangan.accounts.models import NO_RECORD_ROLES, Role

    for role in [r for r in NO_RECORD_ROLES if r != Role.CITIZEN]:
        client = logged_in(make_user(role=role))
        assert client.get(reverse("search:search"), {"q": "托管协议"}).status_code == 403, role
        saving = client.post(reverse("search:save"), {"name": "x", "query": "q=x"})
        assert saving.status_code == 403, role
        assert 'class="quick-search"' not in client.get(reverse("jobs:list")).content.decode()
    client = logged_in(make_user(role=Role.READING_CLERK))
    assert client.get(reverse("search:search"), {"q": "托管协议"}).status_code == 200
    assert 'class="quick-search"' in client.get(reverse("jobs:list")).content.decode()


def test_a_broad_query_ranks_description_matches_first_and_stays_within_rights(
    make_user, make_record, scanned_page, monkeypatch
):
    monkeypatch.setattr("dangan.search.selectors.CANDIDATES", 3)
    pensions = Category.objects.get(code="TX")
    custody = Category.objects.get(code="SYTG")
    for n in range(4):
        hidden = make_record(category=pensions, title=f"[退休材料{n}]")
        scanned_page(hidden, position=1, text="经审核同意办理退休手续")
        seen = make_record(title=f"[托管材料{n}]")
        scanned_page(seen, position=1, text="经审核同意办理档案托管")
    titled = make_record(title="经审核同意的托管协议")
    clerk = make_user(grants=[{"category": custody, "max_secrecy": Secrecy.CONFIDENTIAL}])

    results = search(clerk, "经审核")

    assert results.capped
    assert results.hits[0].record.pk == titled.pk
    assert {hit.record.category_id for hit in results.hits} == {custody.pk}
    assert [v.label for v in results.facets["category"]] == [custody.name]


def test_a_broad_phrase_finds_only_records_holding_its_words_in_that_order(
    archivist, make_record, scanned_page, monkeypatch
):
    monkeypatch.setattr("dangan.search.selectors.CANDIDATES", 3)
    holding = []
    for n in range(4):
        record = make_record(title=f"[托管材料{n}]")
        scanned_page(record, position=1, text="经审核同意办理档案托管")
        holding.append(record.pk)
    scattered = make_record(title="[托管材料]")
    scanned_page(scattered, position=1, text="经审定，再审核，同意办理")

    results = search(archivist, "经审核")

    assert results.capped
    assert scattered.pk not in _codes(results)
    assert set(_codes(results)) <= set(holding)


def test_the_last_six_digits_of_a_number_printed_only_on_a_page_find_that_record(
    archivist, make_record, scanned_page, id_number
):
    spouse = id_number("19700812")  # named on the form, catalogued on no record
    record = make_record(person={"id_number": id_number(), "name": "张建国"})
    other = make_record(person={"id_number": id_number(), "name": "李四"})
    scanned_page(
        record, position=2, text=f"配偶：王秀英 公民身份号码：{spouse}\n营业执照号 91320925MA1234"
    )
    scanned_page(other, position=1, text="工龄认定表 2001年5月 编号 12345678")

    assert _codes(search(archivist, spouse[-6:])) == [record.pk]
    assert _codes(search(archivist, spouse[-4:])) == [record.pk]
    assert _codes(search(archivist, "345678")) == [other.pk]


def test_records_created_in_bulk_are_indexed_as_a_rebuild_would_index_them(
    archivist, fonds, category, id_number
):
    from dangan.catalogue.services import RecordDraft, create_records
    from dangan.people.services import check_person, resolve_persons
    from dangan.search.services import build_documents, created_documents

    people = resolve_persons(
        actor=archivist,
        entries=[
            check_person(id_number=id_number(), name="萬平德"),
            check_person(id_number=id_number(), name="李秀英"),
        ],
    )
    drafts = [
        RecordDraft(
            fonds=fonds,
            category=category,
            values={
                "title": f"[失业人员托管档案 {n}]",
                "date": datetime.date(1998, 3, n),
                "responsible": "建湖县粮食局",
                "legacy_number": f"SYTG-{n:06d}",
                "remarks": "补 320925196803040019" if n == 2 else "",
            },
            persons=list(people.values())[: n - 1],
            file=n != 3,
        )
        for n in (1, 2, 3)
    ]
    records = create_records(actor=archivist, drafts=drafts)
    made = created_documents(
        [
            (r, [(p.name, p.id_number) for p in d.persons])
            for r, d in zip(records, drafts, strict=True)
        ]
    )
    read = build_documents(Record.objects.filter(pk__in=[r.pk for r in records]).order_by("pk"))
    assert [d.columns() for d in made] == [d.columns() for d in read]
    assert [d.record_id for d in made] == [r.pk for r in records]
    assert sorted(_codes(search(archivist, "万平德"))) == [records[1].pk, records[2].pk]
