from django import template

from mentoring.selectors import mentoring_panel

register = template.Library()


@register.inclusion_tag("mentoring/_panel.html")
def mentoring_panel_for(attorney):
    """The mentoring part of the attorney's dashboard: `{% mentoring_panel_for attorney %}`."""
    return {"panel": mentoring_panel(attorney=attorney)}
