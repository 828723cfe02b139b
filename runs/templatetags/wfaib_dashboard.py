"""`{% wfaib_dashboard %}`: the dashboard block of the admin index (templates/admin/index.html).

The admin index view is Django's own; this tag adds the figures for the signed-in user.
"""

from django import template

from ..admin_views import dashboard

register = template.Library()


@register.inclusion_tag("admin/wfaib_dashboard.html", takes_context=True)
def wfaib_dashboard(context):
    request = context["request"]
    return {"dash": dashboard(request.user), "request": request}
