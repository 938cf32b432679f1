import pytest

from retaguarda.catalog.testing import catalog_defaults_build
from retaguarda.core.testing import company_build


@pytest.fixture
def catalog(company):
    """`company` with its default units of measure and tax categories."""
    catalog_defaults_build(company)
    return company


@pytest.fixture
def other_company(db):
    company = company_build(country="BR")
    catalog_defaults_build(company)
    return company
