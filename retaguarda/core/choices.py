"""Roles by department and the areas a partner can be scoped to."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    MANAGER = "manager", _("Manager")
    SALES = "sales", _("Sales")
    WAREHOUSE = "warehouse", _("Warehouse")
    FINANCE = "finance", _("Finance")
    HR = "hr", _("Human resources")
    SUPPORT = "support", _("IT support")
    LEGAL = "legal", _("Legal")
    PARTNER = "partner", _("Partner")


class Area(models.TextChoices):
    SALES = "sales", _("Sales")
    CATALOG = "catalog", _("Catalog")
    PARTIES = "parties", _("Customers and suppliers")
    WAREHOUSE = "warehouse", _("Warehouse and logistics")
    ACCOUNTING = "accounting", _("Accounting")
    PEOPLE = "people", _("People")
    SUPPORT = "support", _("IT support")
    LEGAL = "legal", _("Legal")
    ADMINISTRATION = "administration", _("Administration")


class Country(models.TextChoices):
    BRAZIL = "BR", _("Brazil")
    SPAIN = "ES", _("Spain")
    PORTUGAL = "PT", _("Portugal")
    FRANCE = "FR", _("France")
    GERMANY = "DE", _("Germany")
    ITALY = "IT", _("Italy")
    NETHERLANDS = "NL", _("Netherlands")
    BELGIUM = "BE", _("Belgium")
    IRELAND = "IE", _("Ireland")
    AUSTRIA = "AT", _("Austria")
    UNITED_STATES = "US", _("United States")


class Currency(models.TextChoices):
    EUR = "EUR", _("Euro")
    BRL = "BRL", _("Brazilian real")
    USD = "USD", _("US dollar")


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    PORTUGUESE_BR = "pt-br", "Português (Brasil)"
    SPANISH = "es", "Español"


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    RETRYING = "retrying", _("Retrying")
    FAILED = "failed", _("Failed")


class DeviationStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("status", "Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed automatically")


OPEN_DEVIATION_STATUSES = (DeviationStatus.OPEN, DeviationStatus.ACKNOWLEDGED)


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")
