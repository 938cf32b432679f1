"""Template helpers of the collections pages: links to documents of other areas, which may not
be installed in every deployment."""

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.simple_tag
def invoice_url(invoice_id) -> str:
    """The invoice's page, or "" when billing's pages are not installed."""
    try:
        return reverse("billing:invoice_detail", args=[invoice_id])
    except NoReverseMatch:
        return ""
