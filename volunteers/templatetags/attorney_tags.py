from django import template

register = template.Library()


@register.filter
def lookup_done(progress, step: str) -> bool:
    """Whether a profile step is done: `progress|lookup_done:slug`."""
    return progress.done(step)
