from django import template

from interpreters.selectors import team_for_match

register = template.Library()


@register.inclusion_tag("interpreters/_team_note.html")
def team_note(match_id):
    """On the attorney's offer page: the interpreter of a team, whether they accepted, and
    whether they replaced one who declined."""
    return {"team": team_for_match(match_id=match_id)}
