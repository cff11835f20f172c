"""The search page: one box, ranked hits with snippets, facets, paging, a person mode."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from . import selectors
from .forms import SearchForm

FACET_TITLES = {
    "fonds": _("Fonds"),
    "category": _("Category"),
    "year": _("Year"),
    "retention": _("Retention"),
    "openness": _("Openness"),
}


@login_required
def search_page(request):
    form = SearchForm(request.GET or None)
    results = None
    if form.is_valid() and form.cleaned_data["q"].strip():
        results = selectors.search(
            request.user,
            form.cleaned_data["q"],
            filters=form.filters(),
            page=form.cleaned_data["page"] or 1,
            mode=form.cleaned_data["mode"] or "records",
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "search/search.html",
        {
            "form": form,
            "results": results,
            "facets": _facet_links(query, results) if results else [],
            "query": query.urlencode(),
            "modes": [
                (mode, label, _with(query, mode=mode))
                for mode, label in selectors.MODE_LABELS.items()
            ],
        },
    )


def _with(query, **changes) -> str:
    """The query string with ``changes`` (None removes a parameter), always from page one."""
    query = query.copy()
    for name, value in changes.items():
        query.pop(name, None)
        if value is not None:
            query[name] = value
    return query.urlencode()


def _facet_links(query, results):
    """Facets for the side bar: each value links to the search narrowed (or widened) by it."""
    return [
        {
            "title": FACET_TITLES[name],
            "values": [
                {
                    "value": v,
                    "url": _with(query, **{name: None if v.selected else v.value}),
                }
                for v in values
            ],
        }
        for name, values in results.facets.items()
        if values
    ]
