"""``{% record_files record %}``: a record's files and the upload widget, in one line."""

from django import template

from dangan.content.selectors import record_files_context

register = template.Library()


@register.inclusion_tag("content/record_files.html", takes_context=True)
def record_files(context, record):
    request = context["request"]
    return {
        **record_files_context(request.user, record),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
