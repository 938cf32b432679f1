"""WSGI entry point for gunicorn; refuses to start with an unsafe production configuration."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retaguarda.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

from retaguarda.core.configcheck import refuse_unsafe_production  # noqa: E402

refuse_unsafe_production()
