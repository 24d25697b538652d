from django import template
from django.utils.safestring import mark_safe

from issues.markdown import render_markdown_cached

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> str:
    """Codebook definitions and guidelines: Markdown, sanitised like issue bodies."""
    # Safe to mark so: render_markdown passes every rendering through nh3's allow-list.
    return mark_safe(render_markdown_cached(text or "", repository=None))
