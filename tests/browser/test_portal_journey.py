"""The citizen's journey on a phone (390×844): Li Xiuying logs in to the portal, sees her own
retirement file's entry (企业职工退休档案, TX) and nobody else's, asks for a copy; the archivist
approves it; she downloads the watermarked PDF; the QR code on it opens the public /verify/
page, which confirms the file — and declares the same file with one byte changed not genuine.
"""

import io
import subprocess

import pytest
from PIL import Image

from dangan.accounts.models import Role, Secrecy
from dangan.catalogue.models import Category
from dangan.content.services import add_files
from dangan.portal.models import CitizenProfile
from tests.api.conftest import id_number
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

LI = {"id_number": id_number("33010219580312004"), "name": "李秀英"}
WANG = {"id_number": id_number("33010219600101005"), "name": "王建国"}
PHONE = {"width": 390, "height": 844}


def _scan() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (420, 594), (250, 250, 245)).save(out, "PNG")
    out.seek(0)
    return out


def _qr_url(pdf: bytes, tmp_path) -> str:
    """The address in the QR code on the copy's first page, read as a phone camera would."""
    import cv2

    (tmp_path / "copy.pdf").write_bytes(pdf)
    detectors = [cv2.QRCodeDetector()]
    if hasattr(cv2, "QRCodeDetectorAruco"):
        detectors.append(cv2.QRCodeDetectorAruco())
    # OpenCV's detector misses some codes at one scale and reads them at another (the code holds
    # a random verification code, so which ones differs from run to run): try as a phone would,
    # nearer and farther.
    for dpi in (150, 200, 300, 100):
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-png", "copy.pdf", f"cover{dpi}"],
            cwd=tmp_path,
            check=True,
        )
        image = cv2.imread(str(next(tmp_path.glob(f"cover{dpi}*.png"))))
        for detector in detectors:
            text, _points, _straight = detector.detectAndDecode(image)
            if text:
                return text
    raise AssertionError("no QR code found on the first page")


@pytest.fixture
def files(settings, tmp_path):
    settings.CONTENT_DIR = tmp_path / "content"
    settings.CONTENT_FSYNC = False


def test_citizen_requests_a_copy_the_archive_approves_and_anyone_can_verify_it(
    new_page, login, make_user, make_record, archivist, files, live_server, settings, tmp_path
):
    settings.DANGAN_PUBLIC_URL = live_server.url
    tx = Category.objects.get(code="TX")
    li_file = make_record(
        person=LI,
        actor=archivist,
        category=tx,
        title="李秀英企业职工退休档案",
        secrecy=Secrecy.INTERNAL,
    )
    add_files(actor=archivist, record=li_file, files=[("p1.png", _scan())])
    wang_file = make_record(
        person=WANG, actor=archivist, category=tx, title="王建国企业职工退休档案"
    )
    li = make_user(role=Role.CITIZEN, grants=(), first_name=LI["name"])
    CitizenProfile.objects.create(
        user=li, id_number=LI["id_number"], bound_via=CitizenProfile.Binding.COUNTER
    )

    # 1. She logs in on her phone and sees her own retirement file, nobody else's.
    phone = new_page()
    phone.set_viewport_size(PHONE)
    phone.goto("/portal/login/")
    phone.fill("input[name=username]", li.username)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("main form button[type=submit]")
    phone.wait_for_url("**/portal/my/")
    assert phone.locator("article.entry").count() == 1
    body = phone.inner_text("main")
    assert li_file.archival_code in body and "李秀英企业职工退休档案" in body
    assert wang_file.archival_code not in body and "王建国" not in body
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"

    # 2. She asks for a copy.
    phone.click(f"a[href='/portal/my/records/{li_file.pk}/']")
    phone.fill("textarea[name=reason]", "办理养老保险待遇资格认证")
    phone.click("form[action$='/request/'] button[type=submit]")
    phone.wait_for_url("**/portal/my/requests/")
    assert phone.locator("article.request.state-submitted").count() == 1
    number = phone.inner_text("article.request dd.number")

    # 3. The archivist approves it on the staff pages.
    from dangan.access.models import AccessRequest

    request = AccessRequest.objects.get(number=number)
    staff = login(archivist)
    staff.goto(f"/access/requests/{request.pk}/")
    staff.click("#decision-form button[value=approve]")
    staff.wait_for_url(f"**/access/requests/{request.pk}/")
    request.refresh_from_db()
    assert request.state == AccessRequest.State.DELIVERED

    # 4. She downloads the watermarked copy.
    phone.reload()
    assert phone.locator("article.request.state-delivered").count() == 1
    with phone.expect_download() as download:
        phone.click("article.request a.download")
    pdf = tmp_path / "downloaded.pdf"
    download.value.save_as(pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert number in text  # the watermark names the request

    # 5. The QR code opens the public check, which confirms the file…
    url = _qr_url(data, tmp_path)
    assert url.startswith(live_server.url + "/verify/")
    anyone = new_page()
    anyone.set_viewport_size(PHONE)
    anyone.goto(url)
    anyone.set_input_files("#verify-form input[type=file]", str(pdf))
    anyone.click("#verify-form button[type=submit]")
    anyone.wait_for_selector("#verdict")
    assert "genuine" in anyone.get_attribute("#verdict", "class").split()

    # 6. …and declares the same file with one byte changed not genuine.
    changed = bytearray(data)
    changed[len(changed) // 2] ^= 0x01
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(bytes(changed))
    anyone.goto(url)
    anyone.set_input_files("#verify-form input[type=file]", str(forged))
    anyone.click("#verify-form button[type=submit]")
    anyone.wait_for_selector("#verdict")
    assert "not-genuine" in anyone.get_attribute("#verdict", "class").split()
