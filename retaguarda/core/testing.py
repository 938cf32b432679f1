"""Builders shared by every area's tests: companies, users by role, logged-in clients, API tokens."""

from __future__ import annotations

import itertools

from django.test import Client

from .choices import Role
from .models import Company, User
from .permissions import Actor
from .selectors import actor_for
from .services import api_token_create, company_create, user_create

PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count(1)

BR_CNPJ = "11.222.333/0001-81"
ES_CIF = "B58378431"


def company_build(*, country: str = "ES", legal_name: str | None = None, tax_id: str | None = None) -> Company:
    n = next(_counter)
    if country == "BR":
        defaults = dict(
            legal_name=f"Loja Exemplo {n} Ltda",
            tax_id=tax_id or f"{n:08d}000191",
            base_currency="BRL",
            default_language="pt-br",
        )
    else:
        defaults = dict(
            legal_name=f"Tienda Ejemplo {n} SL",
            tax_id=tax_id or f"B{n:08d}",
            base_currency="EUR",
            default_language="es",
        )
    if legal_name:
        defaults["legal_name"] = legal_name
    return company_create(country=country, **defaults)


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
