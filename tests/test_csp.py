"""A strict Content-Security-Policy on every page: nothing inline, nothing foreign."""

import pytest
from django.urls import reverse

from tests.factories import ImportRunFactory, StudyIssueFactory
from tests.helpers import app_pages, with_annotation_work

pytestmark = pytest.mark.django_db


def test_it_sends_a_strict_policy_on_every_page(client, admin_user, study):
    StudyIssueFactory(study=study)
    with_annotation_work(study, admin_user)
    import_run = ImportRunFactory()
    client.force_login(admin_user)

    for url in app_pages(study, import_run):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy, url
        assert "script-src 'self' 'nonce-" in policy, url
        assert "object-src 'none'" in policy, url
        assert "frame-ancestors 'none'" in policy, url
        assert "unsafe-inline" not in policy, url
        assert "unsafe-eval" not in policy, url


def test_it_sends_the_policy_on_the_login_page_to_anonymous_users(client):
    policy = client.get(reverse("login")).headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
