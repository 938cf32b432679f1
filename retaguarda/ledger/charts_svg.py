"""Charts of the report pages drawn on the server as inline SVG with pygal (no JavaScript, no
CDN): income against expenses month by month, what the expenses are made of, and the balance
sheet's two sides."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from babel import numbers as babel_numbers
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from retaguarda.core.templatetags.rtg import babel_locale

from .reports import BalanceSheet, MonthFigures, ProfitAndLoss, StatementSection

COLORS = ("#2f6fdf", "#d9534f", "#3c9a5f", "#e0a030", "#7a5bc7", "#3aa9b8", "#b0577e", "#6b7a8f", "#9c6b30")
# Slices beyond this are summed into "other" so the legend stays readable.
MAX_SLICES = 8


def _style():
    from pygal.style import Style

    return Style(
        background="transparent",
        plot_background="transparent",
        foreground="#1d2433",
        foreground_strong="#1d2433",
        foreground_subtle="#8a93a6",
        font_family="system-ui, sans-serif",
        colors=COLORS,
        label_font_size=11,
        major_label_font_size=11,
        legend_font_size=12,
        value_font_size=11,
        title_font_size=14,
    )


def _formatter(value) -> str:
    if value is None:
        return ""
    return babel_numbers.format_decimal(Decimal(value), format="#,##0.00", locale=babel_locale())


def _without_scripts(root):
    """Drop pygal's inline configuration script: the page runs no chart JavaScript, and the
    script's JSON carries account names unescaped for HTML (a name holding "</script>" would
    end it early)."""
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rpartition("}")[2] == "script":
                parent.remove(child)
    return root


def _config(**options) -> dict:
    # js=[]: pygal links its tooltip script from a CDN otherwise; the SVG goes inline in the
    # page, so without the XML declaration.
    defaults = {
        "js": [],
        "disable_xml_declaration": True,
        "style": _style(),
        "width": 720,
        "height": 320,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "value_formatter": _formatter,
        "margin": 8,
    }
    defaults.update(options)
    return defaults


def _svg(chart) -> SafeString:
    chart.add_xml_filter(_without_scripts)
    # pygal escapes every label and value it writes, so the markup is safe to embed.
    return mark_safe(chart.render(is_unicode=True))  # noqa: S308


def income_and_expenses_chart(months: Sequence[MonthFigures]) -> SafeString:
    """Bars of income and expenses for each period of the range."""
    import pygal

    chart = pygal.Bar(**_config(title=_("Income and expenses by month"), x_label_rotation=0))
    chart.x_labels = [m.period.code for m in months]
    chart.add(_("Income"), [m.income for m in months])
    chart.add(_("Expenses"), [m.expenses for m in months])
    return _svg(chart)


def _slices(section: StatementSection, *, accounts_only: bool = False) -> list[tuple[str, Decimal]]:
    """The section's positive rows, largest first, the smallest summed into "other": its
    top-level rows, or with `accounts_only` its accounts without their groups."""
    chosen = [r for r in section.rows if (not r.is_group if accounts_only else r.depth == 0) and r.amount > 0]
    rows = sorted(((f"{r.code} {r.name}".strip(), r.amount) for r in chosen), key=lambda pair: -pair[1])
    if len(rows) > MAX_SLICES:
        rest = sum((amount for _label, amount in rows[MAX_SLICES - 1 :]), Decimal(0))
        rows = rows[: MAX_SLICES - 1] + [(_("Other"), rest)]
    return rows


def expenses_composition_chart(pl: ProfitAndLoss) -> SafeString:
    """What the range's expenses are made of, by account: a ring."""
    import pygal

    chart = pygal.Pie(**_config(title=_("Expenses by account"), inner_radius=0.45, height=300))
    for label, amount in _slices(pl.expenses, accounts_only=True):
        chart.add(label, amount)
    return _svg(chart)


def balance_sheet_chart(bs: BalanceSheet) -> SafeString:
    """The two sides of the balance sheet as stacked bars: assets by group, and liabilities
    and equity by group."""
    import pygal

    chart = pygal.StackedBar(**_config(title=_("Balance sheet composition"), legend_at_bottom_columns=2))
    chart.x_labels = [_("Assets"), _("Liabilities and equity")]
    for label, amount in _slices(bs.assets):
        chart.add(label, [amount, None])
    for section in (bs.liabilities, bs.equity):
        for label, amount in _slices(section):
            chart.add(label, [None, amount])
    return _svg(chart)
