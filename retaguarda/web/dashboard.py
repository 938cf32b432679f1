"""The home dashboard: a registry of widgets, each checking its own permission and rendering itself.

The home page renders only an empty card per visible widget; each card then loads its content
with htmx from `web:widget` (one URL per widget), so a slow count never holds up the page and
every fragment is permission-checked on its own. Areas register their widgets at app ready
(see web/widgets.py).
"""

from __future__ import annotations

from django.template.loader import render_to_string


class DashboardWidget:
    """Subclass, set the class attributes and `context()`, and decorate with `@register`."""

    code: str = ""
    title = ""
    # A permission from core.permissions.PERMISSIONS, or None for a widget every user sees.
    permission: str | None = None
    template_name: str = ""
    # Wide widgets take two columns of the grid where the screen has room.
    wide: bool = False

    def visible_to(self, actor) -> bool:
        return actor is not None and (self.permission is None or actor.can(self.permission))

    def context(self, actor) -> dict:
        return {}

    def render(self, request) -> str:
        context = {"widget": self, **self.context(request.actor)}
        return render_to_string(self.template_name, context, request=request)


registry: dict[str, DashboardWidget] = {}


def register(widget_class: type[DashboardWidget]) -> type[DashboardWidget]:
    """Class decorator: add one instance of the widget to the registry (codes are unique)."""
    if not widget_class.code or not widget_class.template_name:
        raise ValueError(f"{widget_class.__name__} needs a code and a template_name")
    existing = registry.get(widget_class.code)
    if existing is not None and type(existing) is not widget_class:
        raise ValueError(f"dashboard widget code {widget_class.code!r} is already registered")
    registry[widget_class.code] = widget_class()
    return widget_class


def widgets_for(actor) -> list[DashboardWidget]:
    """The widgets the actor may see, in registration order."""
    return [widget for widget in registry.values() if widget.visible_to(actor)]


def widget_get(code: str) -> DashboardWidget | None:
    return registry.get(code)
