"""The editors' pages: a record added from the record page and the search results, entries
reordered and annotated, a version approved by a leader, an export started in the background,
an exhibition built, refused records explained, published."""

import pytest
from django.urls import reverse

from dangan.accounts.models import Role, Secrecy
from dangan.compilation import services
from dangan.compilation.models import Compilation, Exhibition

pytestmark = pytest.mark.django_db


def test_the_menu_page_is_for_archivists_and_leaders(make_user, logged_in, archivist, leader):
    assert logged_in(archivist).get(reverse("compilation:home")).status_code == 200
    assert logged_in(leader).get(reverse("compilation:home")).status_code == 200
    clerk = make_user(role=Role.READING_CLERK)
    assert logged_in(clerk).get(reverse("compilation:home")).status_code == 403


def test_a_record_is_added_from_its_page_to_a_compilation(archivist, make_record, logged_in):
    record = make_record(title="关于建立农村养老保险制度的通知")
    book = services.create_compilation(actor=archivist, kind="chronicle", title="大事记")
    client = logged_in(archivist)
    page = client.get(reverse("catalogue:record-detail", args=[record.pk])).content.decode()
    cite = f"{reverse('compilation:cite')}?record={record.pk}"
    assert cite in page
    answer = client.post(
        cite, {"compilation": book.pk, "date": "1992-03", "text": "县政府建立农保制度"}
    )
    assert answer.status_code == 302 and answer["Location"] == book.get_absolute_url()
    entry = book.entries.get()
    assert (entry.year, entry.month, entry.text) == (1992, 3, "县政府建立农保制度")
    assert entry.citations.get().archival_code == record.archival_code
    detail = client.get(book.get_absolute_url()).content.decode()
    assert record.archival_code in detail and "县政府建立农保制度" in detail


def test_the_search_results_offer_to_add_a_record(archivist, make_record, logged_in):
    record = make_record(title="养老保险缴费基数调整")
    page = logged_in(archivist).get(reverse("search:search"), {"q": record.archival_code})
    assert f"{reverse('compilation:cite')}?record={record.pk}" in page.content.decode()


def test_a_record_out_of_the_editors_grants_cannot_be_cited_from_a_page(
    make_user, make_record, logged_in, category
):
    from dangan.catalogue.models import Category

    other = Category.objects.exclude(pk=category.pk).first()
    editor = make_user(grants=[{"category": other, "max_secrecy": Secrecy.INTERNAL}])
    record = make_record()
    book = services.create_compilation(actor=editor, kind="topic", title="专题")
    client = logged_in(editor)
    assert client.get(reverse("compilation:cite"), {"record": record.pk}).status_code == 404
    answer = client.post(
        reverse("compilation:entry-add", args=[book.pk]),
        {"codes": record.archival_code},
        follow=True,
    )
    assert "您可查看的档案中没有档号为" in answer.content.decode()
    assert not book.entries.exists()


def test_entries_are_reordered_annotated_submitted_and_approved(
    archivist, leader, make_record, logged_in
):
    first, second = make_record(title="第一件"), make_record(title="第二件")
    book = services.create_compilation(actor=archivist, kind="topic", title="专题")
    client = logged_in(archivist)
    for record in (first, second):
        client.post(
            reverse("compilation:entry-add", args=[book.pk]), {"codes": record.archival_code}
        )
    lower = book.entries.get(position=2)
    client.post(reverse("compilation:entry-move", args=[book.pk, lower.pk]), {"step": "up"})
    assert [e.citations.get().record for e in book.entries.order_by("position")] == [second, first]
    client.post(
        reverse("compilation:entry-edit", args=[book.pk, lower.pk]),
        {"note": "此件为复印件。", "text": "摘录", "chapter": "第一章"},
    )
    lower.refresh_from_db()
    assert (lower.note, lower.chapter) == ("此件为复印件。", "第一章")
    client.post(reverse("compilation:submit", args=[book.pk]), {"remark": "请审定"})
    version = book.versions.get()
    boss = logged_in(leader)
    page = boss.get(book.get_absolute_url()).content.decode()
    assert reverse("compilation:decide", args=[book.pk, version.pk]) in page
    boss.post(reverse("compilation:decide", args=[book.pk, version.pk]), {"decision": "approve"})
    book.refresh_from_db()
    assert book.state == Compilation.State.APPROVED and book.approved_version == version


def test_an_export_from_the_page_goes_to_the_job_and_never_runs_in_the_request(
    archivist, make_record, logged_in
):
    from dangan.jobs.models import Job

    book = services.create_compilation(actor=archivist, kind="chronicle", title="大事记")
    services.add_entry(actor=archivist, compilation=book, date="1992", text="一件大事")
    answer = logged_in(archivist).post(
        reverse("compilation:export", args=[book.pk]), {"format": "pdf"}
    )
    job = Job.objects.get(kind="compilation.pdf")
    assert answer["Location"] == job.get_absolute_url()
    assert job.state == Job.State.QUEUED and job.params == {"compilation": book.pk}


def test_an_exhibition_is_built_on_its_page_and_published_by_a_leader(
    archivist, leader, make_record, open_record, logged_in, client
):
    client_a = logged_in(archivist)
    client_a.post(
        reverse("compilation:home"),
        {"what": "exhibition", "slug": "reform", "title_zh_hans": "改革三十年"},
    )
    show = Exhibition.objects.get(slug="reform")
    act = reverse("compilation:exhibition-act", args=[show.pk])
    client_a.post(act, {"what": "section", "title_zh_hans": "制度建立"})
    section = show.sections.get()
    closed = make_record(title="尚未开放的档案", openness="controlled", secrecy=Secrecy.PUBLIC)
    refused = client_a.post(
        act, {"what": "exhibit", "section": section.pk, "code": closed.archival_code}, follow=True
    ).content.decode()
    assert "只有开放档案可以展出" in refused
    shown = open_record(title="动员大会照片")
    client_a.post(
        act,
        {"what": "exhibit", "section": section.pk, "code": shown.archival_code, "caption_en": "x"},
    )
    client_a.post(act, {"what": "submit"})
    assert client_a.post(act, {"what": "publish"}).status_code == 403
    show.refresh_from_db()
    assert show.state == Exhibition.State.SUBMITTED  # an archivist cannot publish
    logged_in(leader).post(act, {"what": "publish"})
    client.logout()
    page = client.get(reverse("exhibitions:page", args=["reform"])).content.decode()
    assert "动员大会照片" in page and "尚未开放的档案" not in page


def test_a_leader_finds_what_waits_for_approval_on_the_workbench(
    archivist, leader, make_record, open_record, logged_in
):
    record = make_record()
    book = services.create_compilation(actor=archivist, kind="topic", title="待审专题")
    services.add_entry(actor=archivist, compilation=book, codes=[record.archival_code])
    services.submit_version(actor=archivist, compilation=book)
    show = services.create_exhibition(actor=archivist, slug="w", title={"zh_hans": "待审展览"})
    section = services.add_section(actor=archivist, exhibition=show, title={"zh_hans": "一"})
    services.add_exhibit(actor=archivist, section=section, record=open_record())
    services.submit_exhibition(actor=archivist, exhibition=show)
    page = logged_in(leader).get("/").content.decode()
    tray = page[page.index('data-tray="compilations"') :]
    assert "待审专题" in tray and "待审展览" in tray
    assert book.get_absolute_url() in tray
    services.approve_version(actor=leader, version=book.versions.get())
    page = logged_in(leader).get("/").content.decode()
    assert "待审专题" not in page[page.index('data-tray="compilations"') :]
