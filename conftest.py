import pytest

from retaguarda.core.choices import Role
from retaguarda.core.testing import actor_build, api_client_for, client_for, company_build, user_build

ALL_ROLES = list(Role.values)


@pytest.fixture
def company(db):
    return company_build(country="ES")


@pytest.fixture
def company_br(db):
    return company_build(country="BR")


@pytest.fixture
def admin_user(company):
    return user_build(company, Role.ADMINISTRATOR)


@pytest.fixture
def admin_actor(company):
    return actor_build(company, Role.ADMINISTRATOR)


@pytest.fixture
def admin_client(admin_user):
    return client_for(admin_user)


@pytest.fixture
def admin_api(admin_user, company):
    return api_client_for(admin_user, company)


@pytest.fixture
def role_user(company):
    """Factory: a user with the given role (and partner areas) in `company`."""

    def make(role, areas=()):
        return user_build(company, role, areas=areas)

    return make


@pytest.fixture(autouse=True)
def _english_by_default():
    """Each test starts in English; the language middleware activates per request and would leak."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")


def pytest_configure(config):
    from django.conf import settings

    # Real hashing costs ~0.2 s per user and tests create thousands; production keeps PBKDF2.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
