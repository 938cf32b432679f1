import pytest

from retaguarda.parties.testing import party_build


@pytest.fixture
def customer(company):
    return party_build(company, legal_name="Distribuciones García SL")


@pytest.fixture
def other_customer(company):
    return party_build(company, legal_name="Hostal Brisa SL")


@pytest.fixture
def supplier(company):
    return party_build(company, legal_name="Suministros López SA", is_customer=False, is_supplier=True)
