import os

from django.core.wsgi import get_wsgi_application

from annotator import embedded_postgres

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
# gunicorn started by `serve` inherits its DATABASE_URL; started by hand without one, it starts the embedded server.
embedded_postgres.start_if_needed()
application = get_wsgi_application()
