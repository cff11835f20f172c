"""The portal's permission matrix: every portal URL (walked from the resolver, so a page added
later is in it) for a visitor, an unbound citizen, Li (bound), Wang (another bound citizen), a
reading-room clerk and an archivist, with every record of the archive as the URL's object.

Whatever the page — list, record, requests, search, counts — nothing outside the caller's
rights may be in it: another person's name or ID number (whole or masked in the clear), a
record's code or title that is not theirs, and never the secret record.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from dangan.accounts.models import Role, Secrecy
from dangan.people.id_numbers import mask

from .conftest import LI, WANG

pytestmark = pytest.mark.django_db


def _portal_routes():
    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern), p.name

    return [(r, n) for r, n in walk(get_resolver().url_patterns, "") if r.startswith("portal/")]


def _urls(pks):
    urls = []
    for route, name in _portal_routes():
        if "<" in route:
            for key, pk in pks.items():
                urls.append(("/" + re.sub(r"<(?:\w+:)?\w+>", str(pk), route), name, key))
        else:
            urls.append(("/" + route, name, None))
            for q in (LI["name"], WANG["name"], LI["id_number"], "退休"):
                urls.append((f"/{route}?q={q}", name, None))
    return urls


@pytest.fixture
def callers(make_citizen, make_user):
    return {
        "visitor": None,
        "unbound": make_citizen(),
        "li": make_citizen(person=LI),
        "wang": make_citizen(person=WANG),
        "clerk": make_user(role=Role.READING_CLERK, grants=[{"max_secrecy": Secrecy.INTERNAL}]),
        "archivist": make_user(role=Role.ARCHIVIST),
    }


def _forbidden(caller, archive):
    """What must not appear in any portal answer to ``caller``."""
    others = {
        "li": [archive["wang_file"], archive["secret"]],
        "wang": [archive["li_file"], archive["secret"]],
    }.get(caller, [archive["li_file"], archive["wang_file"], archive["shared"], archive["secret"]])
    texts = []
    for record in others:  # the open record is everyone's to see
        texts += [record.archival_code, record.title]
    persons = {"li": [WANG], "wang": [LI]}.get(caller, [LI, WANG])
    for person in persons:
        texts += [person["name"], person["id_number"], mask(person["id_number"])]
    if caller in ("li", "wang"):  # the own number is never shown whole either
        own = LI if caller == "li" else WANG
        texts.append(own["id_number"])
    return texts


@pytest.mark.parametrize("caller", ["visitor", "unbound", "li", "wang", "clerk", "archivist"])
def test_no_portal_page_shows_what_the_caller_may_not_see(client, archive, callers, caller):
    user = callers[caller]
    if user is not None:
        client.force_login(user)
    pks = {k: archive[k].pk for k in ("li_file", "shared", "wang_file", "secret", "open")}
    own = {"li": {"li_file", "shared"}, "wang": {"wang_file", "shared"}}.get(caller, set())
    forbidden = _forbidden(caller, archive)
    checked = 0
    for url, name, key in _urls(pks):
        answer = client.get(url)
        assert answer.status_code != 500, url
        if key is not None and key not in own:
            assert answer.status_code in (302, 403, 404, 405), (caller, url, answer.status_code)
        if caller in ("visitor",) and name not in {
            "portal-home",
            "portal-search",
            "portal-login",
            "portal-signup",
            "portal-oidc-start",
            "portal-oidc-callback",
        }:
            assert answer.status_code in (302, 403, 404, 405), (url, answer.status_code)
        if answer.status_code == 200:
            body = answer.content.decode()
            asked = url.partition("?q=")[2]
            for text in forbidden:
                if text and text not in asked:
                    assert text not in body, (caller, url, text)
        checked += 1
    assert checked > 20


@pytest.mark.parametrize("caller", ["li", "wang"])
def test_a_citizen_sees_exactly_her_own_entries(client, archive, callers, caller):
    client.force_login(callers[caller])
    page = client.get("/portal/my/").content.decode()
    own = {"li": ["li_file", "shared"], "wang": ["wang_file", "shared"]}[caller]
    assert page.count('class="entry"') == len(own)
    for key in own:
        assert archive[key].archival_code in page


@pytest.mark.parametrize("caller", ["unbound", "wang", "clerk", "archivist"])
def test_nobody_but_li_requests_a_copy_of_her_file(client, archive, callers, caller):
    client.force_login(callers[caller])
    answer = client.post(f"/portal/my/records/{archive['li_file'].pk}/request/", {"reason": "x"})
    assert answer.status_code in (403, 404)


def test_writes_need_a_post_and_a_csrf_token(archive, callers):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(callers["li"])
    answer = client.post(f"/portal/my/records/{archive['li_file'].pk}/request/", {"reason": "x"})
    assert answer.status_code == 403
