"""Fixed choices of the books: what an account is, what it is for, and the states of periods
and entries."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AccountKind(models.TextChoices):
    """Where an account's balance is reported, and which side increases it."""

    ASSET = "asset", _("Asset")
    LIABILITY = "liability", _("Liability")
    EQUITY = "equity", _("Equity")
    INCOME = "income", _("Income")
    EXPENSE = "expense", _("Expense")


DEBIT_NATURED = frozenset({AccountKind.ASSET, AccountKind.EXPENSE})
PROFIT_AND_LOSS_KINDS = frozenset({AccountKind.INCOME, AccountKind.EXPENSE})


class AccountRole(models.TextChoices):
    """What postings use an account for. Postings and reports find accounts by role, never by
    code; at most one account of a company holds each role."""

    RECEIVABLE = "receivable", _("Customer receivables")
    PAYABLE = "payable", _("Supplier payables")
    CUSTOMER_ADVANCES = "customer_advances", _("Customer advances and credit")
    REVENUE = "revenue", _("Sales of goods")
    SERVICE_REVENUE = "service_revenue", _("Sales of services")
    SALES_RETURNS = "sales_returns", _("Sales returns and discounts")
    COST_OF_GOODS = "cost_of_goods", _("Cost of goods sold")
    INVENTORY = "inventory", _("Inventory")
    INVENTORY_LOSS = "inventory_loss", _("Inventory losses")
    PURCHASES = "purchases", _("Purchases and expenses")
    TAX_PAYABLE = "tax_payable", _("Output tax payable")
    TAX_RECEIVABLE = "tax_receivable", _("Input tax recoverable")
    TAX_WITHHELD = "tax_withheld", _("Tax withheld by customers")
    CASH = "cash", pgettext_lazy("account role", "Cash")
    BANK = "bank", _("Bank")
    EQUITY = "equity", _("Share capital")
    RETAINED_EARNINGS = "retained_earnings", _("Retained earnings")
    ROUNDING = "rounding", _("Rounding differences")
    EXCHANGE_GAIN = "exchange_gain", _("Exchange gains")
    EXCHANGE_LOSS = "exchange_loss", _("Exchange losses")
    LATE_FEES = "late_fees", _("Late-payment interest and fees")
    BAD_DEBT = "bad_debt", _("Bad debts written off")


class JournalKind(models.TextChoices):
    SALES = "sales", _("Sales")
    PURCHASES = "purchases", _("Purchases")
    BANK = "bank", _("Bank")
    CASH = "cash", pgettext_lazy("account role", "Cash")
    STOCK = "stock", _("Stock")
    GENERAL = "general", _("General")


class PeriodState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class EntryState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    POSTED = "posted", _("Posted")
