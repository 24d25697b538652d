"""The htmx seam (annotator/htmx.py): a page or its fragment from one helper, and every response says it varies."""

import pytest
from django.urls import reverse

from tests.factories import MembershipFactory, StudyIssueFactory

pytestmark = pytest.mark.django_db


def test_htmx_gets_the_fragment_and_a_browser_the_page_and_both_say_they_vary(client, study):
    StudyIssueFactory(study=study)
    client.force_login(MembershipFactory(study=study).user)
    url = reverse("studies:issues", args=[study.slug])

    page, fragment = client.get(url), client.get(url, headers={"HX-Request": "true"})

    assert page.text.lstrip().startswith("<!doctype html>") and 'id="results"' in page.text
    assert fragment.text.lstrip().startswith('<div id="results"') and "<html" not in fragment.text
    for response in (page, fragment):
        assert "HX-Request" in response["Vary"]


def test_responses_without_a_fragment_say_so_too(client, researcher):
    client.force_login(researcher)

    assert "HX-Request" in client.get(reverse("studies:list"))["Vary"]
    assert "HX-Request" in client.get("/studies/no-such-study/")["Vary"]
