"""Customers and suppliers (one party can be both), their contacts, addresses and payment terms."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from retaguarda.common.fields import MoneyField
from retaguarda.common.taxids import tax_id_format, tax_id_label
from retaguarda.core.choices import Country, Language
from retaguarda.core.models import Company

from .choices import AddressKind, PartyKind

phone_validator = RegexValidator(
    r"^\+?[0-9 ()./-]{3,40}$", _("Enter a phone number: digits, spaces and + ( ) - . / only."), code="invalid_phone"
)


class PaymentTerm(models.Model):
    """When a party pays: "Immediate" (0 days), "30 days"…; each company keeps its own list."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    days = models.PositiveSmallIntegerField(_("days"))

    class Meta:
        verbose_name = _("payment term")
        verbose_name_plural = _("payment terms")
        ordering = ["days", "name"]
        constraints = [models.UniqueConstraint(fields=["company", "name"], name="payment_term_unique_name")]

    def __str__(self) -> str:
        return self.name


class Party(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    legal_name = models.CharField(_("legal name"), max_length=200)
    trade_name = models.CharField(_("trade name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=PartyKind.choices, default=PartyKind.COMPANY)
    is_customer = models.BooleanField(_("customer"), default=True)
    is_supplier = models.BooleanField(_("supplier"), default=False)
    tax_country = models.CharField(_("tax country"), max_length=2, choices=Country.choices)
    # Compact form (digits and capitals, EU VAT numbers with their country prefix); "" if unknown.
    tax_id = models.CharField(_("tax id"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True, validators=[phone_validator])
    language = models.CharField(_("preferred language"), max_length=8, choices=Language.choices)
    payment_term = models.ForeignKey(
        PaymentTerm,
        verbose_name=_("payment terms"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # In the company's base currency.
    credit_limit = MoneyField(_("credit limit"), default=0)
    # Why new orders are refused for this customer (credit, collections); blank when not blocked.
    blocked_reason = models.CharField(_("blocked for new orders"), max_length=200, blank=True, db_default="")
    # How invoices tax this party (billing.taxes' fiscal positions: "domestic",
    # "recargo_equivalencia", "intra_eu_b2b", "contribuinte_same_state" …); blank means the
    # company's default for the party's country and kind.
    fiscal_position = models.CharField(_("fiscal position"), max_length=32, blank=True, db_default="")
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["legal_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "tax_country", "tax_id"],
                condition=Q(is_active=True) & ~Q(tax_id=""),
                name="party_unique_active_tax_id",
            ),
            models.CheckConstraint(
                condition=Q(is_customer=True) | Q(is_supplier=True), name="party_customer_or_supplier"
            ),
            models.CheckConstraint(condition=Q(credit_limit__gte=0), name="party_credit_limit_not_negative"),
        ]
        indexes = [models.Index(fields=["company", "legal_name"], name="party_company_name_idx")]

    def __str__(self) -> str:
        return self.trade_name or self.legal_name

    @property
    def display_name(self) -> str:
        if self.trade_name and self.trade_name != self.legal_name:
            return f"{self.trade_name} ({self.legal_name})"
        return self.legal_name

    @property
    def tax_id_display(self) -> str:
        return tax_id_format(self.tax_country, self.tax_id)

    @property
    def tax_id_scheme(self) -> str:
        return tax_id_label(self.tax_country, self.tax_id)


class Contact(models.Model):
    """A person to talk to at a party: the buyer, the accounts payable clerk…"""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=150)
    role = models.CharField(_("role"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True, validators=[phone_validator])

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Address(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(_("kind"), max_length=10, choices=AddressKind.choices)
    street = models.CharField(_("street"), max_length=200)
    number = models.CharField(_("number"), max_length=20, blank=True)
    complement = models.CharField(_("complement"), max_length=100, blank=True)
    district = models.CharField(_("district"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100)
    state = models.CharField(_("state or province"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["kind", "-is_default", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["party", "kind"], condition=Q(is_default=True), name="address_one_default_per_kind"
            )
        ]

    def __str__(self) -> str:
        return ", ".join(p for p in self.lines() if p)

    def lines(self) -> list[str]:
        """The address as printed on a label, one entry per line."""
        first = " ".join(p for p in (self.street, self.number) if p)
        if self.complement:
            first = f"{first}, {self.complement}"
        place = " ".join(p for p in (self.postal_code, self.city) if p)
        if self.state:
            place = f"{place} ({self.state})" if place else self.state
        return [line for line in (first, self.district, place, self.get_country_display()) if line]
