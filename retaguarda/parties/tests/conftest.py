import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users are built by the dozen here; the production hasher would spend most of the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
