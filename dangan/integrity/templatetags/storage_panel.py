"""``{% storage_panel %}``: the dashboard's panel of storage alerts and the last fixity round."""

from django import template

from dangan.integrity.alerts import alert_summary, may_view_alerts

register = template.Library()


@register.inclusion_tag("integrity/_storage_panel.html", takes_context=True)
def storage_panel(context):
    user = context["request"].user
    return {"summary": alert_summary(), "may_view": may_view_alerts(user)}
