"""The permission matrix: every URL the project resolves (pages, API, admin, audit) × every role
× an object in the caller's scope and one outside it.

Every answer is checked for what must never be in it: the out-of-scope record's archival code
and title, its person's name and ID number (whole or masked) — in pages, lists, search hits,
counts, Excel exports and API answers alike. An object outside the scope answers 404 (or 403, or
a redirect to the log-in page for a visitor), never its content. The URL list is walked from the
resolver, so a page added tomorrow is in the matrix without anyone remembering to add it.
"""

import io
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from openpyxl import load_workbook
from PIL import Image

from dangan.accounts.models import NO_RECORD_ROLES, Role, Secrecy
from dangan.catalogue.models import Category, Fonds
from dangan.content.services import add_files
from dangan.people.id_numbers import mask
from tests.api.conftest import id_number

pytestmark = pytest.mark.django_db

IN_PERSON = {"id_number": id_number("11010119800101123"), "name": "张伟"}
OUT_PERSON = {"id_number": id_number("36042119620315001"), "name": "萬平德"}
OUT_TITLE = "[越权不可见档案]"
ROLES = [*Role, None]  # None: a visitor who has not logged in
#: Pages anyone may open without logging in.
PUBLIC = {"login", "login-verify", "login-enrol", "admin:login", "api:api-schema", "api:api-docs"}
#: The citizen portal's public pages (docs/portal.md): its home, the open catalogue, log-in.
PUBLIC |= {
    "portal:portal-home",
    "portal:portal-search",
    "portal:portal-login",
    "portal:portal-signup",
    "portal:portal-oidc-start",
    "portal:portal-oidc-callback",
}
#: The public check of a certified copy, /verify/ and /verify/<code>/ (docs/access.md).
PUBLIC |= {"verify:index", "verify:certificate"}
#: The online exhibitions of open records (docs/compilation.md): published ones only, records
#: checked as each page is shown (tests/compilation/test_exhibitions.py).
PUBLIC |= {"exhibitions:list", "exhibitions:page", "exhibitions:image"}
#: Liveness and readiness probes (docs/deploy.md): "ok"/"fail" per service, nothing more.
PUBLIC |= {"healthz", "readyz"}
#: The site's icon, asked for by every browser before any log-in.
PUBLIC |= {"site:favicon"}
#: Routes not worth a request: Django's "view on site" redirector needs a content type.
#: The OpenAPI description is public, holds no data and is tested in tests/api/test_schema.py.
SKIP = re.compile(r"^admin/r/|^admin/jsi18n|^i18n/|^api/v1/schema/")


def _routes():
    """(route as written, url name with its namespaces) of every pattern, prefixes joined.

    Names are qualified ("verify:index", not "index"), so a public page's name never makes
    another app's page of the same name public in the matrix."""

    def walk(patterns, prefix, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                inner = ":".join(n for n in (namespace, p.namespace) if n)
                yield from walk(p.url_patterns, prefix + str(p.pattern), inner)
            elif isinstance(p, URLPattern):
                name = p.name and (f"{namespace}:{p.name}" if namespace else p.name)
                yield prefix + str(p.pattern), name

    return list(walk(get_resolver().url_patterns, "", ""))


def _kind(route: str) -> str:
    """Which object a route's id names, from its path."""
    if re.search(r"people/person/|persons?/|people/<", route):
        return "person"
    if re.search(r"pages/<|pages/\(|digitize/pages/", route):
        return "page"
    if re.search(r"records?/<|records/\(|catalogue/<|records/\(\?P", route):
        return "record"
    return "other"


def _fill(route: str, values: dict) -> str:
    url = route.replace("^", "").replace("$", "")
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values.get(m[1], "1")), url)
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values.get(m[1], "1")), url)
    url = url.replace("\\.", ".").replace("/?", "/").replace(".*", "")
    return "/" + url


def _urls(objects) -> list[tuple[str, str, str, str]]:
    """(url, name, scope "in"/"out"/"none", kind) for every route, filled with our objects."""
    urls = []
    for route, name in _routes():
        if SKIP.search(route):
            continue
        kind = _kind(route)
        has_id = re.search(r"<(?:\w+:)?(pk|id|object_id)>|\(\?P<pk>", route)
        scopes = ["in", "out"] if has_id and kind != "other" else ["none"]
        for scope in scopes:
            obj = objects.get((kind, scope))
            values = {
                "pk": obj or 999999,
                "id": obj or 999999,
                "object_id": obj or 999999,
                "code": {"in": "A001", "out": "B002"}.get(scope, "A001"),
                "format": "json",
                "kind": "thumbnail",
                "url": "nothing/",
            }
            app = re.search(r"\(\?P<app_label>([\w|]+)\)", route)
            if app:
                values["app_label"] = app[1].split("|")[0]
            urls.append((_fill(route, values), name or "", scope, kind))
    plain = [
        u for u in urls if u[2] == "none" and "<" not in u[0] and not u[0].startswith("/admin")
    ]
    for url, name, _scope, kind in plain:  # every list and search, asked for the outsider
        for q in (OUT_PERSON["id_number"], OUT_PERSON["name"]):
            urls.append((f"{url}?q={q}", name, "search", kind))
    return urls


def _png() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("L", (8, 8), 255).save(data, "PNG")
    data.seek(0)
    return data


@pytest.fixture
def world(make_record, make_user, settings, tmp_path):
    """Two records: SYTG in fonds A001 (in every reader's grant) and TX in fonds B002 (outside
    every grant), each with a person and a scanned page."""
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    sytg = Category.objects.get(code="SYTG")
    other = Fonds.objects.create(code="B002", name="县就业服务中心")
    writer = make_user(role=Role.ARCHIVIST)
    inside = make_record(person=IN_PERSON, actor=writer, title="[可见档案]")
    outside = make_record(
        person=OUT_PERSON,
        actor=writer,
        fonds=other,
        category=Category.objects.get(code="TX"),
        title=OUT_TITLE,
    )
    pages = {
        scope: add_files(actor=writer, record=record, files=[("scan.png", _png())])[0]
        for scope, record in (("in", inside), ("out", outside))
    }
    objects = {
        ("record", "in"): inside.pk,
        ("record", "out"): outside.pk,
        ("person", "in"): inside.persons.get().pk,
        ("person", "out"): outside.persons.get().pk,
        ("page", "in"): pages["in"].pk,
        ("page", "out"): pages["out"].pk,
    }
    secrets = [
        outside.archival_code,
        OUT_TITLE,
        OUT_PERSON["name"],
        OUT_PERSON["id_number"],
        mask(OUT_PERSON["id_number"]),
    ]
    grant = {"fonds": Fonds.objects.get(code="A001"), "category": sytg}
    return {
        "objects": objects,
        "secrets": secrets,
        "inside": inside,
        "outside": outside,
        "grant": {**grant, "max_secrecy": Secrecy.CONFIDENTIAL},
    }


def _body(response) -> str:
    if getattr(response, "streaming", False):
        data = b"".join(response.streaming_content)
    else:
        data = response.content
    kind = response.get("Content-Type", "")
    if "spreadsheetml" in kind:
        sheet_text = []
        for sheet in load_workbook(io.BytesIO(data), read_only=True).worksheets:
            for row in sheet.iter_rows(values_only=True):
                sheet_text += [str(v) for v in row if v is not None]
        return "\n".join(sheet_text)
    if kind.startswith(("text/", "application/json", "application/problem")) or not kind:
        return data.decode("utf-8", "replace")
    return ""  # a scan's bytes: whether it may be downloaded at all is checked by status


def _may_show_everyones_trail(role, url) -> bool:
    """The auditor reads the whole trail, which names what others read (that is its purpose)."""
    return role == Role.AUDITOR and (url.startswith("/audit/") or "/admin/audit/" in url)


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "visitor")
def test_no_url_shows_anything_outside_the_callers_scope(client, make_user, world, role):
    if role is not None:
        client.force_login(make_user(role=role, grants=[world["grant"]]))
    reads_records = role is not None and role not in NO_RECORD_ROLES
    checked = 0
    for url, name, scope, kind in _urls(world["objects"]):
        response = client.get(url)
        status = response.status_code
        assert status != 500, url
        if role is None and name not in PUBLIC:
            assert status in (301, 302, 401, 403, 404, 405), (url, status)
        if scope == "out":
            assert status in (301, 302, 401, 403, 404, 405), (role, url, status)
        if scope == "in" and not reads_records and kind in ("record", "person", "page"):
            assert status in (301, 302, 401, 403, 404, 405), (role, url, status)
        if status == 200 and not _may_show_everyones_trail(role, url):
            body = _body(response)
            asked = url.partition("?q=")[2]
            for secret in world["secrets"]:
                if secret in asked:
                    continue  # a page may show back what was typed; the rest must not show
                assert secret not in body, (role, url, secret)
            if not reads_records and not url.startswith("/audit/"):
                assert world["inside"].archival_code not in body, (role, url)
        checked += 1
    assert checked > 50


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "visitor")
def test_writes_to_an_object_outside_the_scope_are_refused(client, make_user, world, role):
    if role is not None:
        client.force_login(make_user(role=role, grants=[world["grant"]]))
    outside = world["outside"]
    for url, _name, scope, _kind in _urls(world["objects"]):
        if scope != "out" or url.startswith("/admin/"):
            continue
        for answer in (
            client.post(url, {"title": "changed", "files": []}),
            client.patch(url, {"title": "changed"}, content_type="application/json"),
        ):
            assert answer.status_code in (302, 401, 403, 404, 405), (role, url, answer)
    outside.refresh_from_db()
    assert outside.title == OUT_TITLE


@pytest.mark.parametrize("role", [r for r in Role if r not in NO_RECORD_ROLES])
def test_readers_do_see_what_is_in_their_scope(client, make_user, world, role):
    """The matrix above is not empty-handed: the same callers see the record in their scope."""
    client.force_login(make_user(role=role, grants=[world["grant"]]))
    inside = world["inside"]
    assert inside.archival_code in client.get(f"/catalogue/{inside.pk}/").content.decode()
    answer = client.get("/api/v1/records/").json()
    assert answer["count"] == 1 and answer["results"][0]["id"] == inside.pk
    persons = client.get("/api/v1/persons/").json()
    assert [p["name"] for p in persons["results"]] == [IN_PERSON["name"]]
