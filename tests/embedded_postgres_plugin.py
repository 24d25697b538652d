"""The test run's database, started before pytest-django reads the settings (as manage.py does).

A pytest plugin, loaded with `-p` (pyproject.toml), because pytest-django sets Django up before any
conftest.py is loaded; tryfirst puts this hook before pytest-django's.
"""

import pytest

from annotator import embedded_postgres


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests() -> None:
    embedded_postgres.start_if_needed()
