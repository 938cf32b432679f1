"""Builders shared by every area's tests: companies, users by role, logged-in clients, API tokens."""

from __future__ import annotations

import itertools

from django.test import Client

from retaguarda.common.taxids import COMPANY, EU_VAT_PREFIX, tax_id_example

from .choices import Role
from .models import Company, User
from .permissions import Actor
from .selectors import actor_for
from .services import api_token_create, company_create, user_create

PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count(1)

BR_CNPJ = "11.222.333/0001-81"
ES_CIF = "B58378431"

_COMPANY_DEFAULTS = {
    "BR": ("Loja Exemplo {n} Ltda", "BRL", "pt-br"),
    "ES": ("Tienda Ejemplo {n} SL", "EUR", "es"),
}


def company_tax_id_example(country: str, n: int) -> str:
    """A valid company tax id of `country`, distinct for each `n` below 10**7.

    A CNPJ in Brazil, a CIF in Spain, a VAT number in Portugal (check digits from
    common.taxids); elsewhere outside the EU any letters and digits do.
    """
    number = tax_id_example(country=country, kind=COMPANY, seed=n)
    if number:
        return number
    if country in EU_VAT_PREFIX:
        raise ValueError(f"no example tax id for {country}: pass tax_id= to company_build")
    return f"{country}{n:08d}"


def company_build(*, country: str = "ES", legal_name: str | None = None, tax_id: str | None = None) -> Company:
    """A company through company_create, with a valid tax id of its country unless one is given."""
    n = next(_counter)
    name, currency, language = _COMPANY_DEFAULTS.get(country, ("Company {n} Ltd", "EUR", "en"))
    return company_create(
        country=country,
        legal_name=legal_name or name.format(n=n),
        tax_id=tax_id or company_tax_id_example(country, n),
        base_currency=currency,
        default_language=language,
    )


def user_build(
    company: Company, role: str = Role.ADMINISTRATOR, *, areas=(), username: str | None = None, language: str = "en"
) -> User:
    username = username or f"{role}{next(_counter)}"
    return user_create(
        username=username, password=PASSWORD, company=company, role=role, areas=list(areas), language=language
    )


def actor_build(company: Company, role: str = Role.ADMINISTRATOR, *, areas=()) -> Actor:
    user = user_build(company, role, areas=areas)
    return actor_for(user, company.pk)


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def api_client_for(user: User, company: Company) -> Client:
    """A test client that sends a fresh bearer token for `user` in `company` on every request."""
    actor = actor_for(user, company.pk)
    _token, raw = api_token_create(actor=actor, name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
