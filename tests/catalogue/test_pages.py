"""The catalogue's staff pages: list, detail, create and edit, as a clerk uses them."""

import datetime
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from stdnum.cn import ric

from dangan.accounts.models import Role
from dangan.audit.models import AuditEvent
from dangan.catalogue.models import Category, Record
from dangan.catalogue.views import PAGE_SIZE


def id_number(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


WAN = id_number("36042119620315001")  # a man born 1962-03-15


@pytest.fixture
def tx(db):
    return Category.objects.get(code="TX")


def test_pages_require_login(client):
    response = client.get(reverse("catalogue:record-list"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_list_shows_records_with_masked_id_and_linked_person(logged_in, archivist, make_record):
    record = make_record(
        title="万平德托管档案", legacy_number="SY-0001", person={"id_number": WAN, "name": "万平德"}
    )
    page = logged_in(archivist).get(reverse("catalogue:record-list")).content.decode()
    assert record.archival_code in page
    assert "SY-0001" in page and "万平德托管档案" in page
    assert WAN not in page
    assert WAN[:6] + "********" + WAN[-4:] in page
    assert reverse("people:person-detail", args=[record.persons.get().pk]) in page


def test_list_filters_by_category_and_year(logged_in, archivist, make_record, tx):
    make_record(title="托管甲", year=2001)
    make_record(title="托管乙", year=2005, date=datetime.date(2005, 1, 1))
    make_record(title="退休丙", category=tx)
    client = logged_in(archivist)
    url = reverse("catalogue:record-list")
    page = client.get(url, {"category": tx.pk}).content.decode()
    assert "退休丙" in page and "托管甲" not in page
    page = client.get(url, {"year": 2005}).content.decode()
    assert "托管乙" in page and "托管甲" not in page and "退休丙" not in page


def test_list_sorts_by_title(logged_in, archivist, make_record):
    for title in ["乙", "甲", "丙"]:
        make_record(title=f"[排序{title}]")
    page = logged_in(archivist).get(reverse("catalogue:record-list"), {"sort": "title"})
    titles = [r["record"].title for r in page.context["rows"]]
    assert titles == sorted(titles)


def _link(page, rel):
    """The query string of the page's ``rel`` ("next", "prev") link, None without one."""
    found = re.search(rf'rel="{rel}" href="\?([^"]+)"', page.content.decode())
    return found and found.group(1).replace("&amp;", "&")


def test_list_pages_with_a_next_link_and_no_full_count(logged_in, archivist, make_record):
    for _ in range(PAGE_SIZE + 2):
        make_record(title="[分页]")
    client = logged_in(archivist)
    url = reverse("catalogue:record-list")
    first = client.get(url, {"q": "分页"})
    assert len(first.context["rows"]) == PAGE_SIZE and _link(first, "prev") is None
    assert "q=%E5%88%86%E9%A1%B5" in _link(first, "next") and "page=2" in _link(first, "next")
    second = client.get(f"{url}?{_link(first, 'next')}")
    assert len(second.context["rows"]) == 2 and _link(second, "next") is None
    assert "Page 2" in second.content.decode() or "第 2 页" in second.content.decode()
    back = client.get(f"{url}?{_link(second, 'prev')}")
    assert [r["record"].pk for r in back.context["rows"]] == [
        r["record"].pk for r in first.context["rows"]
    ]
    assert _link(back, "prev") is None
    # A bookmarked link of the numbered kind still finds its page.
    old = client.get(url, {"q": "分页", "page": 2})
    assert [r["record"].pk for r in old.context["rows"]] == [
        r["record"].pk for r in second.context["rows"]
    ]


@pytest.mark.parametrize("sort", ["new", "code", "-code", "year", "-year", "title"])
def test_following_next_links_shows_every_record_once_in_the_lists_order(
    logged_in, archivist, make_record, sort
):
    from dangan.catalogue.models import Record
    from dangan.catalogue.selectors import browse_records
    from dangan.core import keyset

    for n in range(PAGE_SIZE * 2 + 7):
        year = 2000 + n % 4
        record = make_record(title=f"[翻页{n % 3}]", year=year, date=datetime.date(year, 5, 1))
        if n % 5 == 0:  # as a draft: no archival code (NULL), sorted where the database puts NULLs
            Record.objects.filter(pk=record.pk).update(archival_code=None)
    listed = browse_records(archivist, q="翻页", sort=sort)
    # the list's order, made total by the record's id (drafts tie on their empty code)
    expected = list(listed.order_by(*keyset.order_of(listed)).values_list("pk", flat=True))
    client = logged_in(archivist)
    url, query, seen = reverse("catalogue:record-list"), f"q=翻页&sort={sort}", []
    while query:
        page = client.get(f"{url}?{query}")
        seen += [r["record"].pk for r in page.context["rows"]]
        query = _link(page, "next")
    assert seen == expected and len(seen) == PAGE_SIZE * 2 + 7


def test_a_cursor_edited_by_hand_gives_the_first_page_with_a_message(
    logged_in, archivist, make_record
):
    make_record(title="[游标]")
    client = logged_in(archivist)
    for cursor in ("garbage!", "eyJvIjpbIi1pZCJdLCJrIjpbIngiXSwiYiI6ZmFsc2V9"):
        page = client.get(reverse("catalogue:record-list"), {"cursor": cursor, "page": 9})
        assert page.status_code == 200 and len(page.context["rows"]) == 1
        assert "out of date" in page.content.decode() or "过期" in page.content.decode()


def test_list_shows_labels_and_dates_and_reads_no_more_for_fifty_rows_than_for_one(
    logged_in, archivist, make_record
):
    make_record(title="[行一]", retention="D30", person={"id_number": WAN, "name": "万平德"})
    client = logged_in(archivist)
    url = reverse("catalogue:record-list")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        page = client.get(url).content.decode()
    assert "30年" in page and "2001-05-01" in page and "控制" in page
    for n in range(PAGE_SIZE - 1):
        make_record(person={"id_number": id_number(f"3604211962031{n:04d}"), "name": f"甲{n}"})
    with CaptureQueriesContext(connection) as fifty:
        response = client.get(url)
    assert len(response.context["rows"]) == PAGE_SIZE
    assert len(re.findall(r'href="/people/\d+/"', response.content.decode())) == PAGE_SIZE
    assert len(fifty) == len(one)


def test_a_page_reads_the_users_grants_once_and_a_change_at_the_next_request(
    logged_in, archivist, make_record
):
    record = make_record(title="万平德托管档案", person={"id_number": WAN, "name": "万平德"})
    client = logged_in(archivist)
    url = reverse("catalogue:record-detail", args=[record.pk])
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert sum('"accounts_grant"' in q["sql"] for q in queries) == 1
    archivist.grants.all().delete()
    assert client.get(url).status_code == 404


def test_search_is_audited_with_the_id_number_masked(logged_in, archivist, make_record):
    make_record(person={"id_number": WAN, "name": "万平德"})
    page = logged_in(archivist).get(reverse("catalogue:record-list"), {"q": WAN})
    assert len(page.context["rows"]) == 1
    event = AuditEvent.objects.filter(action="search").latest("id")
    assert event.detail["q"] == WAN[:6] + "********" + WAN[-4:]
    assert event.actor == archivist


def test_detail_shows_fields_metadata_persons_expiry_and_history(
    logged_in, archivist, make_record, category
):
    record = make_record(
        title="万平德托管档案",
        person={"id_number": WAN, "name": "萬平德"},
        retention="D50",
        year=2001,
    )
    record.metadata = {"work_unit": "县纺织厂", "custody_date": "2001-05-01"}
    record.save()
    client = logged_in(archivist)
    response = client.get(reverse("catalogue:record-detail", args=[record.pk]))
    page = response.content.decode()
    assert record.archival_code in page
    assert "工作单位" in page and "县纺织厂" in page and "托管日期" in page
    assert page.index("工作单位") < page.index("托管日期")  # the schema's order
    assert "2052-01-01" in page  # retention D50 from 1 January 2002
    assert "萬平德" in page and WAN not in page
    assert response.context["history"][0]["event"].action == "create"
    assert reverse("catalogue:record-edit", args=[record.pk]) in page
    assert AuditEvent.objects.filter(action="read", object_id=str(record.pk)).exists()


def test_detail_of_a_record_outside_the_grants_is_404(make_user, logged_in, make_record, tx):
    record = make_record(title="托管")
    tx_only = make_user(grants=[{"category": tx, "max_secrecy": 3}])
    assert (
        logged_in(tx_only).get(reverse("catalogue:record-detail", args=[record.pk])).status_code
        == 404
    )


def test_user_granted_only_tx_sees_no_sytg_record(make_user, logged_in, make_record, tx):
    make_record(title="托管档案甲", person={"id_number": WAN, "name": "万平德"})
    make_record(title="退休档案乙", category=tx)
    client = logged_in(make_user(grants=[{"category": tx, "max_secrecy": 3}]))
    page = client.get(reverse("catalogue:record-list")).content.decode()
    assert "退休档案乙" in page and "托管档案甲" not in page
    assert "失业人员托管档案" not in page  # not even in the category tree
    page = client.get(reverse("catalogue:record-list"), {"q": WAN}).content.decode()
    assert "托管档案甲" not in page


def test_reader_sees_no_edit_button_and_may_not_edit(make_user, logged_in, make_record):
    record = make_record()
    clerk = make_user(role=Role.READING_CLERK)
    client = logged_in(clerk)
    page = client.get(reverse("catalogue:record-detail", args=[record.pk])).content.decode()
    assert reverse("catalogue:record-edit", args=[record.pk]) not in page
    assert client.get(reverse("catalogue:record-edit", args=[record.pk])).status_code == 403
    assert client.get(reverse("catalogue:record-create")).status_code == 403


def _form_data(record, **changes):
    data = {
        "title": record.title,
        "date": record.date.isoformat(),
        "year": record.year,
        "responsible": record.responsible,
        "retention": record.retention,
        "secrecy": record.secrecy,
        "openness": record.openness,
        "public_attribute": record.public_attribute,
    }
    return {**data, **changes}


def test_edit_changes_the_record_and_is_audited(logged_in, archivist, make_record):
    record = make_record(title="旧题名")
    response = logged_in(archivist).post(
        reverse("catalogue:record-edit", args=[record.pk]),
        _form_data(record, title="新题名", m_work_unit="县纺织厂"),
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.title == "新题名" and record.metadata["work_unit"] == "县纺织厂"
    event = AuditEvent.objects.filter(action="update", object_id=str(record.pk)).get()
    assert event.before["title"] == "旧题名" and event.after["title"] == "新题名"


def test_edit_shows_the_schema_error_on_the_field(logged_in, archivist, make_record, tx):
    record = make_record(category=tx, title="退休")
    response = logged_in(archivist).post(
        reverse("catalogue:record-edit", args=[record.pk]),
        _form_data(record, m_pension="很多"),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert response.context["form"].errors["m_pension"] == ["基本养老金 must be an amount."]
    assert "基本养老金 must be an amount." in response.content.decode()
    record.refresh_from_db()
    assert "pension" not in record.metadata


def test_edit_of_a_filed_record_keeps_its_archival_code_fields(logged_in, archivist, make_record):
    record = make_record()
    response = logged_in(archivist).post(
        reverse("catalogue:record-edit", args=[record.pk]),
        _form_data(record, year=1999, retention="Y", remarks="补注"),
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.year, record.retention, record.remarks) == (2001, "D50", "补注")


def test_create_files_a_record_with_its_person(logged_in, archivist, fonds, category):
    client = logged_in(archivist)
    url = reverse("catalogue:record-create")
    assert "失业人员托管档案" in client.get(url).content.decode()
    response = client.post(
        f"{url}?category={category.pk}&fonds={fonds.pk}",
        {
            "title": "万平德失业人员托管档案",
            "date": "2003-04-05",
            "responsible": "县就业局",
            "retention": "D50",
            "secrecy": 1,
            "openness": "controlled",
            "public_attribute": "not_public",
            "m_custody_date": "2003.4",
            "persons": f"{WAN} 万平德",
            "file": "on",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    record = Record.objects.get(title="万平德失业人员托管档案")
    assert record.state == "filed" and record.archival_code
    assert record.year == 2003 and record.metadata["custody_date"] == "2003-04"
    assert record.persons.get().id_number == WAN


def test_create_with_a_bad_id_number_keeps_the_form(logged_in, archivist, fonds, category):
    response = logged_in(archivist).post(
        reverse("catalogue:record-create") + f"?category={category.pk}&fonds={fonds.pk}",
        {
            "title": "x",
            "retention": "D50",
            "secrecy": 1,
            "openness": "controlled",
            "public_attribute": "not_public",
            "persons": WAN[:-1] + ("1" if WAN[-1] != "1" else "2") + " 万平德",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["persons"]
    assert not Record.objects.filter(title="x").exists()


@pytest.fixture
def admin_client(make_user, logged_in):
    return logged_in(make_user(role=Role.SYSTEM_ADMIN, grants=()))


def test_admin_changes_to_a_category_schema_are_audited(admin_client, category):
    field = category.fields.get(key="work_unit")
    url = reverse("admin:catalogue_category_change", args=[category.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if name in form.fields
    }
    data.update(name="失业人员托管档案（新）")
    for formset in admin_client.get(url).context["inline_admin_formsets"]:
        fs = formset.formset
        data.update(
            {
                f"{fs.prefix}-TOTAL_FORMS": len(fs.forms),
                f"{fs.prefix}-INITIAL_FORMS": len(fs.initial_forms),
                f"{fs.prefix}-MIN_NUM_FORMS": 0,
                f"{fs.prefix}-MAX_NUM_FORMS": 1000,
            }
        )
        for inline_form in fs.forms:
            for name in inline_form.fields:
                value = inline_form.initial.get(name, "")
                if isinstance(value, list):
                    value = json.dumps(value, ensure_ascii=False)
                if isinstance(value, bool):
                    value = "on" if value else ""
                data[inline_form.add_prefix(name)] = "" if value is None else value
            data[inline_form.add_prefix("id")] = inline_form.instance.pk
            data[inline_form.add_prefix("category")] = category.pk
            if getattr(inline_form.instance, "key", None) == "work_unit":
                data[inline_form.add_prefix("label")] = "原工作单位"
    data = {k: v for k, v in data.items() if v != ""}
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["errors"]
    field.refresh_from_db()
    assert field.label == "原工作单位"
    changes = AuditEvent.objects.filter(action="update", detail__via="admin")
    by_type = {e.object_type: e for e in changes}
    assert by_type["catalogue.category"].after == {"name": "失业人员托管档案（新）"}
    assert by_type["catalogue.fielddefinition"].before == {"label": "工作单位"}


def test_admin_create_and_delete_of_a_fonds_are_audited(admin_client):
    response = admin_client.post(
        reverse("admin:catalogue_fonds_add"), {"code": "A002", "name": "县就业局"}
    )
    assert response.status_code == 302
    created = AuditEvent.objects.get(action="create", object_type="catalogue.fonds")
    assert created.after["code"] == "A002" and created.actor_name.startswith("user")
    fonds = created.object_id
    response = admin_client.post(
        reverse("admin:catalogue_fonds_delete", args=[fonds]), {"post": "yes"}
    )
    assert response.status_code == 302
    deleted = AuditEvent.objects.get(action="delete", object_type="catalogue.fonds")
    assert deleted.object_id == fonds and deleted.before["name"] == "县就业局"


def test_admin_offers_no_record_editing_and_no_audit_deletion(admin_client, make_user, client):
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert "/admin/catalogue/record/" not in index
    event = AuditEvent.objects.latest("id")
    admin_client = client
    admin_client.force_login(make_user(role=Role.AUDITOR, grants=()))  # the trail is the auditor's
    assert (
        admin_client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).status_code
        == 200
    )
    assert (
        admin_client.post(
            reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_a_long_list_says_how_many_records_it_holds(logged_in, archivist, make_record, monkeypatch):
    """Not "more than 1000": the whole count, kept a while for a long list, and counted anew
    when a record is added."""
    import re

    from dangan.catalogue import selectors

    monkeypatch.setattr(selectors, "COUNT_AT_ONCE", 3)
    for _ in range(5):
        make_record(title="[计数]")
    client = logged_in(archivist)

    def count_line():
        page = client.get(reverse("catalogue:record-list"), {"q": "计数"}).content.decode()
        return re.search(r'<p class="muted count">(.*?)</p>', page, re.S).group(1)

    assert re.findall(r"\d+", count_line()) == ["5"]
    make_record(title="[计数]")
    assert re.findall(r"\d+", count_line()) == ["6"]
