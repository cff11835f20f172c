"""Copy requests from the portal, through the access app's rules, and the download of what was
delivered: by the requester only."""

import io

import pytest
from PIL import Image

from dangan.accounts.models import Role
from dangan.content.services import add_files

from .conftest import LI, WANG

pytestmark = pytest.mark.django_db


@pytest.fixture
def scanned(archive, settings, tmp_path):
    settings.CONTENT_DIR = tmp_path / "content"
    settings.CONTENT_FSYNC = False
    out = io.BytesIO()
    Image.new("RGB", (200, 280), (255, 255, 250)).save(out, "PNG")
    out.seek(0)
    add_files(actor=archive["writer"], record=archive["li_file"], files=[("p1.png", out)])
    return archive


def test_a_citizen_requests_a_copy_sees_it_approved_and_downloads_it(
    client, scanned, make_citizen, make_user
):
    from dangan.access.models import AccessRequest
    from dangan.access.services import approve_request

    li = make_citizen(person=LI)
    client.force_login(li)
    record = scanned["li_file"]
    answer = client.post(f"/portal/my/records/{record.pk}/request/", {"reason": "养老认证"})
    assert answer.status_code == 302 and answer["Location"] == "/portal/my/requests/"
    request = AccessRequest.objects.get(requester=li)
    assert request.state == AccessRequest.State.SUBMITTED
    page = client.get("/portal/my/requests/").content.decode()
    assert request.number in page and "/access/delivery/" not in page

    approve_request(actor=make_user(role=Role.ARCHIVIST), access_request=request)
    page = client.get("/portal/my/requests/").content.decode()
    link = page.split('class="button download" href="')[1].split('"')[0]
    download = client.get(link)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")

    wang = make_citizen(person=WANG)
    client.force_login(wang)
    assert client.get(link).status_code == 404
    assert request.number not in client.get("/portal/my/requests/").content.decode()


def test_a_secret_record_cannot_even_be_asked_for(client, archive, make_citizen):
    client.force_login(make_citizen(person=LI))
    answer = client.post(f"/portal/my/records/{archive['secret'].pk}/request/", {"reason": "x"})
    assert answer.status_code == 404


def test_an_unbound_citizen_has_no_requests_to_make(client, archive, make_citizen):
    client.force_login(make_citizen())
    answer = client.post(f"/portal/my/records/{archive['li_file'].pk}/request/", {"reason": "x"})
    assert answer.status_code == 404


def test_a_citizen_gets_a_copy_of_an_open_record_at_once(
    client, archive, make_citizen, settings, tmp_path
):
    from dangan.access.models import AccessRequest
    from dangan.content.services import add_files
    from tests.access.conftest import scan_png

    settings.CONTENT_DIR = tmp_path / "content"
    settings.CONTENT_FSYNC = False
    add_files(actor=archive["writer"], record=archive["open"], files=[("p.png", scan_png())])
    client.force_login(make_citizen())
    page = client.get("/portal/search/?q=养老金").content.decode()
    action = f"/portal/my/records/{archive['open'].pk}/request/"
    assert action in page
    client.post(action, {"reason": ""})
    request = AccessRequest.objects.get(record=archive["open"])
    assert request.state == AccessRequest.State.DELIVERED


def test_the_open_catalogue_search_offers_the_categories_and_filters_by_one(client, archive, tx):
    page = client.get("/portal/search/?q=养老金").content.decode()
    assert f'<option value="{tx.pk}">{tx.name}</option>' in page
    assert archive["open"].title in page
    page = client.get(f"/portal/search/?q=养老金&category={tx.pk}").content.decode()
    assert archive["open"].title not in page


def test_the_copy_a_citizen_receives_shows_her_own_name_and_masks_only_the_others(
    client, archive, make_citizen, make_user, settings, tmp_path
):
    """Masking is for third parties: the cover of Li's copy names her in full and masks Wang;
    the public /verify/ page, which anyone holding the code can open, masks both."""
    import subprocess

    from dangan.access.models import AccessRequest
    from dangan.access.services import approve_request
    from tests.access.conftest import scan_png

    settings.CONTENT_DIR = tmp_path / "content"
    settings.CONTENT_FSYNC = False
    shared = archive["shared"]
    add_files(actor=archive["writer"], record=shared, files=[("p.png", scan_png())])
    li = make_citizen(person=LI)
    client.force_login(li)
    client.post(f"/portal/my/records/{shared.pk}/request/", {"reason": "工龄认定"})
    request = AccessRequest.objects.get(requester=li)
    approve_request(actor=make_user(role=Role.ARCHIVIST), access_request=request)
    page = client.get("/portal/my/requests/").content.decode()
    link = page.split('class="button download" href="')[1].split('"')[0]
    pdf = b"".join(client.get(link).streaming_content)
    cover = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-", "-"], input=pdf, capture_output=True
    ).stdout.decode()
    assert "李秀英、王**工龄认定表" in cover
    assert "李秀英 (" in cover and "王** (" in cover and "王建国" not in cover

    request.refresh_from_db()
    public = client.get(f"/verify/{request.certificate.code}/").content.decode()
    assert "李**、王**工龄认定表" in public
    assert "李秀英" not in public and "王建国" not in public


def test_a_citizen_whose_copy_failed_is_told_why_and_gets_it_after_the_retry(
    client, scanned, make_citizen, make_user, settings, django_capture_on_commit_callbacks
):
    """A copy the worker could not make (its page's file gone from the store) is not "being
    prepared" for ever: the citizen reads that it failed and why, in Chinese, and downloads it
    once the archive has mended the cause and tried again."""
    from dangan.access.models import AccessRequest
    from dangan.access.services import approve_request, deliver_copy, retry_copy
    from dangan.content.models import Page
    from dangan.content.stores import get_store

    settings.DANGAN_COPIES_IN_BACKGROUND = True
    li = make_citizen(person=LI)
    client.force_login(li)
    record = scanned["li_file"]
    client.post(f"/portal/my/records/{record.pk}/request/", {"reason": "养老认证"})
    request = AccessRequest.objects.get(requester=li)
    archivist = make_user(role=Role.ARCHIVIST)
    approve_request(actor=archivist, access_request=request)
    page_file = get_store().blob_file(Page.objects.get(record=record).blob.key)
    away = page_file.with_name("away")
    page_file.rename(away)
    deliver_copy(request_id=request.pk, actor=archivist)

    page = client.get("/portal/my/requests/").content.decode()
    assert "复制件制作失败" in page and "档案的某一页无法从存储中读取" in page
    assert 'class="being-prepared"' not in page and "/access/delivery/" not in page

    away.rename(page_file)
    retry_copy(actor=archivist, access_request=request)
    assert 'class="being-prepared"' in client.get("/portal/my/requests/").content.decode()
    deliver_copy(request_id=request.pk)
    page = client.get("/portal/my/requests/").content.decode()
    assert "/access/delivery/" in page and "copy-failed" not in page
