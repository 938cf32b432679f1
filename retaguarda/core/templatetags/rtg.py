"""Template filters: money, numbers and dates in the active language's conventions (babel)."""

from __future__ import annotations

from decimal import Decimal

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from django import template
from django.utils import timezone, translation
from django.utils.html import format_html

from retaguarda.core.audit_labels import action_label, value_text

register = template.Library()


def babel_locale() -> str:
    """Babel's locale name for the active Django language: pt-br -> pt_BR, es -> es_ES, en -> en."""
    language = translation.get_language() or "en"
    return {"pt-br": "pt_BR", "es": "es_ES", "en": "en_US"}.get(language.lower(), translation.to_locale(language))


def format_money(amount, currency: str) -> str:
    if amount is None or amount == "":
        return ""
    return babel_numbers.format_currency(Decimal(amount), currency, locale=babel_locale())


@register.filter
def money(amount, currency="EUR"):
    return format_money(amount, currency or "EUR")


@register.filter
def number(value, places=None):
    if value is None or value == "":
        return ""
    value = Decimal(value)
    if places is not None and places != "":
        places = int(places)
        pattern = "#,##0" + ("." + "0" * places if places else "")
        return babel_numbers.format_decimal(value, format=pattern, locale=babel_locale())
    return babel_numbers.format_decimal(value, locale=babel_locale())


@register.filter
def date_local(value, fmt="medium"):
    if not value:
        return ""
    return babel_dates.format_date(value, format=fmt, locale=babel_locale())


@register.filter
def datetime_local(value, fmt="medium"):
    if not value:
        return ""
    value = timezone.localtime(value) if timezone.is_aware(value) else value
    return babel_dates.format_datetime(value, format=fmt, locale=babel_locale())


@register.filter
def get_item(mapping, key):
    if not mapping:
        return None
    return mapping.get(key)


@register.filter
def audit_action(action: str) -> str:
    """The readable name of an audit action ("salesorder.confirm" → "Confirmed")."""
    return action_label(action)


@register.filter
def audit_value(value) -> str:
    return value_text(value)


@register.simple_tag(takes_context=True)
def sort_link(context, key: str, label: str):
    """A column header that sorts by `key`, toggling direction, keeping the other parameters."""
    current = context.get("sort", "")
    descending = current == key
    new = f"-{key}" if descending else key
    base = context.get("querystring_without_sort", "")
    arrow = " ▲" if current == key else (" ▼" if current == f"-{key}" else "")
    href = f"?{base + '&' if base else ''}sort={new}"
    return format_html('<a href="{}">{}{}</a>', href, label, arrow)
