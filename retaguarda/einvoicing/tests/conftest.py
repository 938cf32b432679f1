"""Builders for the electronic invoicing pages, API and wiring tests: a Brazilian company whose
fiscal settings hold its place (state, IBGE code, address), its issued invoices with the
customer's address and NCM codes, its A1 certificate stored through the service, a Spanish
company's invoices, and a fake SEFAZ the instance's authorities factory points to."""

from __future__ import annotations

from decimal import Decimal

import pytest

from retaguarda.billing.models import InvoiceLine
from retaguarda.billing.services import invoice_post
from retaguarda.billing.testing import invoice_build
from retaguarda.core.choices import Role
from retaguarda.core.permissions import system_actor
from retaguarda.core.testing import actor_build, company_build
from retaguarda.einvoicing.authority import SoapAuthority
from retaguarda.einvoicing.certificates import certificate_a1_for, certificate_upload
from retaguarda.einvoicing.nfe_services import AuthoritySet
from retaguarda.einvoicing.testing import TEST_CNPJ, TEST_PASSWORD, FakeSefaz, certificate_pfx_build

D = Decimal
AUTHORITIES_FACTORY = "retaguarda.einvoicing.tests.conftest.fake_authorities"
BR_PLACE = {
    "regime": "simples_nacional",
    "state": "SP",
    "city_code": "3550308",
    "city": "Sao Paulo",
    "street": "Rua Augusta",
    "number": "1500",
    "district": "Consolacao",
    "postal_code": "01304-001",
    "state_registration": "111222333444",
    "rounding": "line",
}
BUYER_ADDRESS = {
    "street": "Rua das Flores",
    "number": "12",
    "district": "Jardim",
    "city": "Campinas",
    "city_code": "3509502",
    "state": "SP",
    "postal_code": "13010-000",
    "country": "BR",
}
NCM = "69120000"
# The fake SEFAZ the authorities factory answers with (set by the `sefaz` fixture).
_FAKE: dict = {}


def fake_authorities(company) -> AuthoritySet:
    """An instance's RETAGUARDA_NFE_AUTHORITIES factory for tests: the fake SEFAZ, reached with
    the company's stored certificate."""
    certificate = certificate_a1_for(company)
    authority = SoapAuthority(_FAKE["sefaz"].url, certificate, uf_code="35", environment="2", timeout=5)
    return AuthoritySet(authority=authority, contingency_authority=None, certificate=None)


@pytest.fixture
def sefaz(settings):
    fake = FakeSefaz().start()
    _FAKE["sefaz"] = fake
    settings.RETAGUARDA_NFE_AUTHORITIES = AUTHORITIES_FACTORY
    yield fake
    fake.stop()
    _FAKE.clear()


@pytest.fixture(scope="session")
def pfx() -> bytes:
    """The company's A1 certificate (made once: an RSA key takes a while)."""
    return certificate_pfx_build()


def br_company(**place):
    company = company_build(country="BR", tax_id=TEST_CNPJ)
    company.fiscal_settings = {**(company.fiscal_settings or {}), **BR_PLACE, **place}
    company.save(update_fields=["fiscal_settings"])
    return company


def certificate_store(company, pfx: bytes, password: str = TEST_PASSWORD):
    return certificate_upload(actor=actor_build(company, Role.FINANCE), pfx=pfx, password=password)


TWO_MUGS = ((D("2"), D("50.00"), "standard"),)


def br_invoice(company, *, lines=TWO_MUGS, buyer=None, ncm=NCM):
    """An issued invoice of `company` whose customer's address (with its IBGE code) is on it and
    whose lines carry an NCM code, so that its NF-e can be made."""
    invoice = invoice_build(company, lines=lines, post=False)
    invoice.party_snapshot = {**invoice.party_snapshot, **(BUYER_ADDRESS if buyer is None else buyer)}
    invoice.save(update_fields=["party_snapshot"])
    InvoiceLine.objects.filter(invoice=invoice).update(ncm=ncm)
    return invoice_post(actor=system_actor(company), invoice_id=invoice.pk)


@pytest.fixture
def br(db):
    return br_company()


@pytest.fixture
def es(db):
    return company_build(country="ES")
