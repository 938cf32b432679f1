import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users are built by the dozen here; the production hasher would spend most of the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def english_messages():
    """Services called directly answer in English, whatever language a previous request left active."""
    with translation.override("en"):
        yield
