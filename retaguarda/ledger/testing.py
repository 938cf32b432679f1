"""Builders for tests of any area that posts to the books: a company with its chart installed,
and its accounts by role."""

from __future__ import annotations

from retaguarda.core.models import Company
from retaguarda.core.testing import company_build

from .charts import ledger_ensure
from .models import Account
from .services import accounts_by_role


def company_with_chart(country: str = "ES", **fields) -> Company:
    """A company through core's company_build; the ledger's hook installs its country's chart,
    journals and current fiscal year (ensured here too, should the hook be off)."""
    company = company_build(country=country, **fields)
    ledger_ensure(company)
    return company


def accounts(company: Company) -> dict[str, Account]:
    """The company's accounts by role (AccountRole value -> Account)."""
    return accounts_by_role(company.pk)
