"""Fixed choices of the catalog: kinds of product and categories of units of measure."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProductKind(models.TextChoices):
    GOODS = "goods", _("Goods")
    SERVICE = "service", _("Service")


class UomCategory(models.TextChoices):
    """Units convert only within one category, through the category's reference unit."""

    UNIT = "unit", _("Unit")
    WEIGHT = "weight", _("Weight")
    VOLUME = "volume", _("Volume")
    LENGTH = "length", _("Length")
    TIME = "time", _("Time")
