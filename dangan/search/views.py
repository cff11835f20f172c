"""The search page: one box and the advanced conditions beside it, ranked hits with snippets,
facets, paging, a person mode, and the user's saved searches."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from dangan.catalogue.selectors import may_browse_records
from dangan.core.keyset import BadCursor

from . import selectors, services
from .forms import AdvancedForm, SaveSearchForm, SearchForm

FACET_TITLES = {
    "fonds": gettext_lazy("Fonds"),
    "category": gettext_lazy("Category"),
    "year": gettext_lazy("Year"),
    "retention": gettext_lazy("Retention"),
    "openness": gettext_lazy("Openness"),
}


def _check_reader(user) -> None:
    """Search is for those who read records (``records.read``), as the catalogue is: its hits
    are the user's visible records, but the three administrators and citizens have none."""
    if not may_browse_records(user):
        raise PermissionDenied(_("Search is for those who read records."))


@login_required
def search_page(request):
    _check_reader(request.user)
    form = SearchForm(request.GET or None)
    more = AdvancedForm(request.GET or None, user=request.user)
    results, advanced, problems = None, None, []
    if more.has_conditions():
        if more.is_valid():
            try:
                advanced = more.build(request.user)
            except ValidationError as refused:
                problems = refused.messages
        else:
            problems = [m for errors in more.errors.values() for m in errors]
    query = request.GET.copy()
    query.pop("page", None)
    if form.is_valid() and not problems and (form.cleaned_data["q"].strip() or advanced):
        asked = {
            "filters": form.filters(),
            "page": form.cleaned_data["page"] or 1,
            "mode": form.cleaned_data["mode"] or "records",
            "advanced": advanced,
        }
        try:
            results = selectors.search(
                request.user, form.cleaned_data["q"], after=form.cleaned_data["after"], **asked
            )
        except BadCursor:  # edited by hand: the best matches instead
            query.pop("after", None)
            results = selectors.search(request.user, form.cleaned_data["q"], **asked)
    return render(
        request,
        "search/search.html",
        {
            "form": form,
            "more": more,
            "problems": problems,
            "results": results,
            "facets": _facet_links(query, results) if results else [],
            "query": query.urlencode(),
            # Keyset paging beyond the best matches: the next block, and back to the first.
            "more_query": _with(query, after=results.next_cursor)
            if results and results.next_cursor
            else None,
            "first_query": _with(query) if results and results.continued else None,
            "modes": [
                (mode, label, _with(query, mode=mode))
                for mode, label in selectors.MODE_LABELS.items()
            ],
            "saved": selectors.saved_searches(request.user),
            "save_form": SaveSearchForm(initial={"query": query.urlencode()}),
        },
    )


@login_required
@require_POST
def save_search(request):
    _check_reader(request.user)
    form = SaveSearchForm(request.POST)
    query = request.POST.get("query", "")
    if form.is_valid():
        try:
            services.save_search(owner=request.user, **form.cleaned_data)
            messages.success(request, _("The search is saved."))
        except ValidationError as refused:
            messages.error(request, " ".join(refused.messages))
    else:
        messages.error(request, _("Give the search a name, and search before you save it."))
    return redirect(reverse("search:search") + (f"?{query}" if len(query) < 4000 else ""))


@login_required
@require_POST
def delete_saved_search(request, pk):
    _check_reader(request.user)
    try:
        services.delete_saved_search(owner=request.user, pk=pk)
        messages.success(request, _("The saved search is deleted."))
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
    return redirect("search:search")


def _with(query, **changes) -> str:
    """The query string with ``changes`` (None removes a parameter), always from page one and
    from the best matches (no ``after`` unless it is one of the changes)."""
    query = query.copy()
    query.pop("after", None)
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
