"""Who may do what, on every URL of the project: the whole matrix, written down and checked.

The URLs come from the root URLconf, so a view added later without a row here
fails the first test. Each cell is requested in a transaction rolled back after
it, so every request meets the same world.

Outcomes: login (sent to the login page), admin-login (sent to the admin's),
404 (as for a study that does not exist: a non-member cannot learn it exists),
403 (a member, told why not), 405 (wrong method), 200, 302 (done, then
redirected), 301 (moved for good), 422 (the form again, saying what is wrong).
"""

import pytest
from axes.models import AccessFailureLog
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import reverse

from issues.tasks import run_import
from studies.codebook import codebook_load, preset
from studies.models import Choice
from tests.factories import (
    MembershipFactory,
    StudyFactory,
    StudyIssueFactory,
)
from tests.helpers import all_patterns, concrete_urls, study_world

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "outsider", "annotator", "other", "adjudicator", "owner", "admin")

# URL name (or route, for an unnamed one): (GET, POST), each an outcome per role in ROLES order.
# POST carries no data: it shows who gets as far as the view's own checks.
EXPECTED = {
    # Logging in and out, and the two public URLs.
    "login": (
        ("200", "302", "302", "302", "302", "302", "302"),  # logged in already: off to the studies
        ("200", "302", "302", "302", "302", "302", "302"),
    ),
    "logout": (
        ("login", "405", "405", "405", "405", "405", "405"),  # only by POST, so a link cannot log you out
        ("login", "login", "login", "login", "login", "login", "login"),
    ),
    "password_change": (
        ("login", "200", "200", "200", "200", "200", "200"),
        ("login", "200", "200", "200", "200", "200", "200"),  # the form again, with what is missing
    ),
    "password_change_done": (
        ("login", "200", "200", "200", "200", "200", "200"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    # The link an admin hands out to set a password (People): anyone may open it; this one does not work, and
    # the page says so.
    "password_set": (
        ("200", "200", "200", "200", "200", "200", "200"),
        ("200", "200", "200", "200", "200", "200", "200"),
    ),
    "password_set_done": (
        ("200", "200", "200", "200", "200", "200", "200"),
        ("405", "405", "405", "405", "405", "405", "405"),
    ),
    "healthz": (
        ("200", "200", "200", "200", "200", "200", "200"),
        ("405", "405", "405", "405", "405", "405", "405"),
    ),
    "favicon.ico": (
        ("301", "301", "301", "301", "301", "301", "301"),
        ("405", "405", "405", "405", "405", "405", "405"),
    ),
    # Imports: admins only; to everyone else they do not exist.
    "issues:import_list": (
        ("login", "404", "404", "404", "404", "404", "200"),
        ("login", "404", "404", "404", "404", "404", "422"),  # the form again: no file chosen
    ),
    "issues:import_detail": (
        ("login", "404", "404", "404", "404", "404", "200"),
        ("login", "404", "404", "404", "404", "404", "405"),
    ),
    "issues:import_progress": (
        ("login", "404", "404", "404", "404", "404", "200"),
        ("login", "404", "404", "404", "404", "404", "405"),
    ),
    "issues:import_errors": (
        ("login", "404", "404", "404", "404", "404", "200"),
        ("login", "404", "404", "404", "404", "404", "405"),
    ),
    "issues:fetch_comments": (
        ("login", "404", "404", "404", "404", "404", "405"),
        ("login", "404", "404", "404", "404", "404", "302"),  # queued for the task worker, then its run's page
    ),
    # Outside a study.
    "studies:list": (
        ("login", "200", "200", "200", "200", "200", "200"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    "studies:create": (
        ("login", "404", "404", "404", "404", "404", "200"),  # admins create studies
        ("login", "404", "404", "404", "404", "404", "422"),  # the form again, with what is missing
    ),
    # People: admins only; to everyone else they do not exist.
    "studies:people": (
        ("login", "404", "404", "404", "404", "404", "200"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    "studies:person_create": (
        ("login", "404", "404", "404", "404", "404", "200"),
        ("login", "404", "404", "404", "404", "404", "422"),  # the form again, with what is missing
    ),
    "studies:person": (
        ("login", "404", "404", "404", "404", "404", "200"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    **dict.fromkeys(
        ("studies:person_active", "studies:person_password"),
        (
            ("login", "405", "405", "405", "405", "405", "405"),
            ("login", "404", "404", "404", "404", "404", "302"),  # nothing to type: back to the page, with a message
        ),
    ),
    "studies:notifications": (
        ("login", "200", "200", "200", "200", "200", "200"),  # one's own
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    "studies:notifications_read": (
        ("login", "405", "405", "405", "405", "405", "405"),
        ("login", "302", "302", "302", "302", "302", "302"),
    ),
    # Every member reads the study, its issues and its codebook; the non-member gets 404.
    "studies:detail": (
        ("login", "404", "200", "200", "200", "200", "200"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    "studies:issues": (
        ("login", "404", "200", "200", "200", "200", "200"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    "studies:next": (
        ("login", "404", "302", "302", "302", "302", "302"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    "studies:codebook": (
        ("login", "404", "200", "200", "200", "200", "200"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    "studies:codebook_export": (
        ("login", "404", "200", "200", "200", "200", "200"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    # Codebook versions: the codebook's own text, read by every member as the codebook is.
    **dict.fromkeys(
        ("studies:codebook_versions", "studies:codebook_version"),
        (
            ("login", "404", "200", "200", "200", "200", "200"),
            ("login", "405", "405", "405", "405", "405", "405"),
        ),
    ),
    # Re-checks: each member's own queue; an answer that is not one of theirs to re-check is not found.
    "studies:recheck": (
        ("login", "404", "200", "200", "200", "200", "200"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    **dict.fromkeys(
        ("studies:recheck_keep", "studies:recheck_change"),
        (
            ("login", "405", "405", "405", "405", "405", "405"),
            ("login", "404", "404", "404", "404", "404", "404"),
        ),
    ),
    "studies:annotate": (
        ("login", "404", "200", "200", "200", "200", "200"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    "studies:issue_history": (
        ("login", "404", "200", "200", "200", "200", "200"),  # annotators: without others' hidden values
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    # Labelling: only the annotators the issue is assigned to; the study's other members are sent back to the
    # issue's page, told it is not (or no longer) assigned to them.
    "studies:save_field": (
        ("login", "405", "405", "405", "405", "405", "405"),
        ("login", "404", "400", "400", "302", "302", "302"),  # a form sends the version it shows; this one none
    ),
    "studies:submit": (
        ("login", "405", "405", "405", "405", "405", "405"),
        ("login", "404", "302", "302", "302", "302", "302"),
    ),
    # Time on task: only the issue's own annotators report (this report holds no time); nobody else has one.
    "studies:active_time": (
        ("login", "405", "405", "405", "405", "405", "405"),
        ("login", "404", "400", "400", "404", "404", "404"),
    ),
    # Time spent reconciling: those who may reconcile the issue (this report holds no time).
    "studies:reconciliation_time": (
        ("login", "405", "405", "405", "405", "405", "405"),
        ("login", "404", "404", "404", "400", "400", "400"),
    ),
    # Reconciliation: annotators are told why not while the issue is still being labelled blind; owners and
    # adjudicators who do not label it watch the work (studies/access.py), though nothing is theirs to set yet.
    "studies:reconcile": (
        ("login", "404", "403", "403", "200", "200", "200"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    "studies:final_value": (
        ("login", "405", "405", "405", "405", "405", "405"),
        ("login", "404", "403", "403", "400", "400", "400"),  # the empty form has no version
    ),
    "studies:accept_agreed": (
        ("login", "405", "405", "405", "405", "405", "405"),
        ("login", "404", "403", "403", "302", "302", "302"),  # back to the page, saying what happened
    ),
    "studies:decision": (
        ("login", "405", "405", "405", "405", "405", "405"),
        ("login", "404", "403", "403", "400", "400", "400"),
    ),
    "studies:discussion_comment": (
        ("login", "405", "405", "405", "405", "405", "405"),
        ("login", "404", "403", "403", "422", "422", "422"),  # the page again: say something first
    ),
    "studies:reopen": (
        ("login", "405", "405", "405", "405", "405", "405"),
        ("login", "404", "404", "404", "404", "400", "400"),  # owners only; the empty form has no version
    ),
    # Overseeing: owners and adjudicators (and admins).
    **dict.fromkeys(
        ("studies:activity", "studies:effort", "studies:effort_export"),
        (
            ("login", "404", "404", "404", "200", "200", "200"),
            ("login", "405", "405", "405", "405", "405", "405"),
        ),
    ),
    # Calibration rounds: their reports set everyone's values side by side, so never for annotators; owners start
    # and close them.
    **dict.fromkeys(
        ("agreement:round", "agreement:rounds_export"),
        (
            ("login", "404", "404", "404", "200", "200", "200"),
            ("login", "405", "405", "405", "405", "405", "405"),
        ),
    ),
    "agreement:rounds": (
        ("login", "404", "404", "404", "200", "200", "200"),
        ("login", "404", "404", "404", "404", "422", "422"),  # the form again, with what is missing
    ),
    "agreement:round_close": (
        ("login", "405", "405", "405", "405", "405", "405"),
        ("login", "404", "404", "404", "404", "302", "302"),  # closed, back to its report
    ),
    # The methods report: whoever reads both the agreement and the time on task; owners choose its examples.
    "agreement:methods": (
        ("login", "404", "404", "404", "200", "200", "200"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    "agreement:methods_example_add": (
        ("login", "405", "405", "405", "405", "405", "405"),
        ("login", "404", "404", "404", "404", "422", "422"),  # the page again: name an issue and a field
    ),
    "agreement:methods_example_remove": (
        ("login", "405", "405", "405", "405", "405", "405"),
        ("login", "404", "404", "404", "404", "404", "404"),  # no such example
    ),
    "studies:export": (
        ("login", "404", "404", "404", "200", "200", "200"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    "studies:profiles": (  # managing export profiles: owners; the downloads are studies:export's
        ("login", "404", "404", "404", "404", "200", "200"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    "agreement:report": (
        ("login", "404", "404", "404", "200", "200", "200"),  # annotators too, if the owner allows it
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    # Gold issues, training and the scores against gold: owners (and admins) only; to trainees they do not exist.
    **dict.fromkeys(
        ("studies:gold", "agreement:gold"),
        (
            ("login", "404", "404", "404", "404", "200", "200"),
            ("login", "405", "405", "405", "405", "405", "405"),
        ),
    ),
    # Language models: admins configure the endpoints; owners add model raters, run them and read their logs.
    "llm:endpoints": (
        ("login", "404", "404", "404", "404", "404", "200"),
        ("login", "404", "404", "404", "404", "404", "422"),  # the form again: nothing filled in
    ),
    "llm:endpoint_edit": (
        ("login", "404", "404", "404", "404", "404", "200"),
        ("login", "404", "404", "404", "404", "404", "422"),
    ),
    **dict.fromkeys(
        ("llm:raters", "llm:rater", "llm:run_progress", "llm:run_log"),
        (
            ("login", "404", "404", "404", "404", "200", "200"),
            ("login", "405", "405", "405", "405", "405", "405"),
        ),
    ),
    "llm:agreement": (  # each model against the humans: who reads the agreement (annotators, if allowed)
        ("login", "404", "404", "404", "200", "200", "200"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    **dict.fromkeys(
        ("llm:gate", "llm:queue"),
        (
            ("login", "405", "405", "405", "405", "405", "405"),
            ("login", "404", "404", "404", "404", "422", "422"),  # the page again, with what is missing
        ),
    ),
    "llm:rater_new": (
        ("login", "405", "405", "405", "405", "405", "405"),
        ("login", "404", "404", "404", "404", "422", "422"),  # the page again: no name, no field
    ),
    **dict.fromkeys(
        ("llm:run_start", "llm:run_pause", "llm:run_resume"),
        (
            ("login", "405", "405", "405", "405", "405", "405"),
            ("login", "404", "404", "404", "404", "302", "302"),  # back to the rater's page, with what happened
        ),
    ),
    "studies:gold_item": (
        ("login", "404", "404", "404", "404", "200", "200"),
        ("login", "404", "404", "404", "404", "422", "422"),  # the form again: a required field has no answer
    ),
    "studies:training_settings": (
        ("login", "405", "405", "405", "405", "405", "405"),
        ("login", "404", "404", "404", "404", "422", "422"),  # the form again: no threshold
    ),
    "studies:gold_promote": (
        ("login", "405", "405", "405", "405", "405", "405"),
        ("login", "404", "404", "404", "404", "302", "302"),  # back to the issue's gold page: it is not decided
    ),
    **dict.fromkeys(
        ("studies:gold_remove", "studies:training_retake"),
        (
            ("login", "405", "405", "405", "405", "405", "405"),
            ("login", "404", "404", "404", "404", "404", "404"),  # the issue is not gold; no annotator named
        ),
    ),
    "agreement:primary": (
        ("login", "405", "405", "405", "405", "405", "405"),
        ("login", "404", "404", "404", "404", "422", "422"),  # owners only; the form again, saying what is missing
    ),
    # Managing: owners (and admins) only.
    "studies:history_export": (
        ("login", "404", "404", "404", "404", "200", "200"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    "studies:manage": (
        ("login", "404", "404", "404", "404", "200", "200"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    "studies:add_issues": (
        ("login", "404", "404", "404", "404", "200", "200"),
        ("login", "404", "404", "404", "404", "200", "200"),
    ),
    "studies:issue_assignments": (
        ("login", "404", "404", "404", "404", "200", "200"),
        ("login", "405", "405", "405", "405", "405", "405"),
    ),
    **dict.fromkeys(
        (
            "studies:settings",
            "studies:member_add",
            "studies:assign",
            "studies:unassign",
            "studies:annotations_upload",
            "studies:issue_assignment_change",
            "studies:codebook_load",
            "studies:codebook_load_preset",
            "studies:profile_new",
            "studies:profile_edit",
            "studies:field_new",
            "studies:field_edit",
            "studies:choice_new",
            "studies:choice_edit",
        ),
        (
            ("login", "405", "405", "405", "405", "405", "405"),
            ("login", "404", "404", "404", "404", "422", "422"),  # the page again, the form saying what is missing
        ),
    ),
    **dict.fromkeys(
        ("studies:member_remove", "studies:field_remove", "studies:choice_remove", "studies:profile_delete"),
        (
            ("login", "405", "405", "405", "405", "405", "405"),
            ("login", "404", "404", "404", "404", "302", "302"),  # nothing to type: back to the page, with a message
        ),
    ),
    **dict.fromkeys(
        ("studies:codebook_promote", "studies:codebook_merge", "studies:codebook_copy"),
        (
            ("login", "405", "405", "405", "405", "405", "405"),
            ("login", "404", "404", "404", "404", "404", "404"),  # the empty form names no field or study
        ),
    ),
    # Surveys: owners build, share, close and download them; to anyone else they do not exist.
    **dict.fromkeys(
        ("surveys:list", "surveys:detail", "surveys:responses_csv", "surveys:results"),
        (
            ("login", "404", "404", "404", "404", "200", "200"),
            ("login", "405", "405", "405", "405", "405", "405"),
        ),
    ),
    "surveys:new": (
        ("login", "404", "404", "404", "404", "200", "200"),
        ("login", "404", "404", "404", "404", "422", "422"),  # the form again: no title, no field picked
    ),
    "surveys:schedule": (
        ("login", "405", "405", "405", "405", "405", "405"),
        ("login", "404", "404", "404", "404", "302", "302"),  # nothing is required: saved, back to the page
    ),
    **dict.fromkeys(
        ("surveys:close", "surveys:reopen"),
        (
            ("login", "405", "405", "405", "405", "405", "405"),
            ("login", "404", "404", "404", "404", "302", "302"),  # back to the survey's page
        ),
    ),
    # A survey's public link: anyone, with or without an account, the same page.
    "surveys:respond": (
        ("200", "200", "200", "200", "200", "200", "200"),
        ("422", "422", "422", "422", "422", "422", "422"),  # the start page again: consent not ticked
    ),
    **dict.fromkeys(
        ("surveys:section", "surveys:submit"),
        (
            ("302", "302", "302", "302", "302", "302", "302"),  # no response started in this browser: to the start
            ("302", "302", "302", "302", "302", "302", "302"),
        ),
    ),
}

# The admin site: anyone but an admin is sent to its login page (anonymous
# visitors to the project's, on model pages); for an admin every page opens,
# but for these.
ADMIN_ONLY_EXCEPTIONS = {
    "admin:login": "302",  # an admin is logged in already
    "admin:logout": "405",  # only by POST
    "admin:autocomplete": "403",  # without the field it completes
    "admin:view_on_site": "302",  # to the import's own page
    "admin/(?P<url>.*)$": "404",  # no such admin page
    # The task results and login records are written by the app, never by hand.
    "admin:django_tasks_database_dbtaskresult_add": "403",
    "admin:django_tasks_database_dbtaskresult_delete": "403",
    "admin:axes_accessattempt_add": "403",
    "admin:axes_accesslog_add": "403",
    "admin:axes_accessfailurelog_add": "403",
}


# An admin's POST with no data to each admin page: the form again with what is missing (200), unless below.
ADMIN_POST_EXCEPTIONS = {
    "admin:logout": "login",
    "admin:password_change_done": "405",
    "admin:autocomplete": "405",
    "admin:jsi18n": "405",
    "admin:view_on_site": "302",  # to the import's own page
    "admin/(?P<url>.*)$": "404",
    # Records the app writes: nobody adds, changes or deletes them by hand.
    "admin:django_tasks_database_dbtaskresult_add": "403",
    "admin:django_tasks_database_dbtaskresult_change": "403",
    "admin:django_tasks_database_dbtaskresult_delete": "403",
    "admin:axes_accessattempt_add": "403",
    "admin:axes_accesslog_add": "403",
    "admin:axes_accessfailurelog_add": "403",
    # django-axes' change pages are read-only: a POST goes back to the list.
    "admin:axes_accessattempt_change": "302",
    "admin:axes_accesslog_change": "302",
    "admin:axes_accessfailurelog_change": "302",
}


@pytest.fixture
def world(client):
    """One study with every role in it, an admin, and an outsider; every kind of object the admin site lists."""
    world = study_world()
    run = world["run"]
    run_import.enqueue(run.pk, [], {})  # a task result, never run
    Group.objects.create(name="reviewers")
    outsider = world["people"]["outsider"]
    client.post(reverse("login"), {"username": outsider.username, "password": "wrong"})  # login records
    AccessFailureLog.objects.create(username="someone", ip_address="127.0.0.1", locked_out=False)  # not kept here
    return world


def admin_urls(world) -> dict[str, str]:
    """A real URL for every page of the admin site, on an existing object where it takes one."""
    urls = {}
    for route, key in all_patterns():
        if not route.startswith("admin/"):
            continue
        if key == "admin:view_on_site":
            run = world["run"]
            urls[key] = reverse(key, args=[ContentType.objects.get_for_model(run).pk, run.pk])
        elif key == "admin:app_list":
            urls[key] = reverse(key, args=["studies"])
        elif key.startswith("admin/(?P<url>"):  # the catch-all
            urls[key] = "/admin/nothing-here/"
        elif "object_id>" in route or "<id>" in route:
            app_label, model_name = route.split("/")[1:3]
            pk = str(apps.get_model(app_label, model_name)._default_manager.order_by("pk").first().pk)
            urls[key] = "/" + route.replace("<path:object_id>", pk).replace("<id>", pk)
        else:
            urls[key] = "/" + route
    return urls


def outcome(response) -> str:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith("/accounts/login/"):
            return "login"
        if location.startswith("/admin/login/"):
            return "admin-login"
    return str(response.status_code)


def request(session: str | None, method: str, url: str) -> str:
    """One request of one role, from a fresh browser, in a transaction rolled back after it."""
    client = Client()
    if session:
        client.cookies[settings.SESSION_COOKIE_NAME] = session
    with transaction.atomic():
        response = getattr(client, method)(url)
        transaction.set_rollback(True)
    return outcome(response)


def sessions(world) -> dict[str, str | None]:
    """Each role's session cookie (logging out ends a session; the rollback brings it back)."""
    cookies = {"anonymous": None}
    for role in ROLES[1:]:
        client = Client()
        client.force_login(world["people"][role])
        cookies[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return cookies


def test_every_url_pattern_of_the_project_has_a_row():
    keys = {key for route, key in all_patterns() if not route.startswith("admin/")}

    assert keys == set(EXPECTED)
    admin_keys = {key for route, key in all_patterns() if route.startswith("admin/")}
    assert admin_keys >= set(ADMIN_ONLY_EXCEPTIONS) | set(ADMIN_POST_EXCEPTIONS)


def test_every_role_gets_what_the_table_says_for_get_and_post(world):
    by_role = sessions(world)

    observed = {
        key: tuple(tuple(request(by_role[role], method, url) for role in ROLES) for method in ("get", "post"))
        for key, url in concrete_urls(world).items()
    }

    assert observed == EXPECTED


def test_no_url_takes_put_patch_or_delete(world):
    by_role = sessions(world)

    for key, url in concrete_urls(world).items():
        for role, on_get in zip(ROLES, EXPECTED[key][0], strict=True):
            # Sent to log in as for GET; the imports do not exist for non-admins, whatever the method; the
            # login page sends a logged-in user on; else refused.
            staff_only = key.startswith("issues:") and on_get == "404"
            expected = on_get if on_get == "login" or staff_only or (key == "login" and role != "anonymous") else "405"
            for method in ("put", "patch", "delete"):
                assert request(by_role[role], method, url) == expected, (key, role, method)


def test_only_admins_use_the_admin_site(world):
    by_role = sessions(world)
    models = [f"admin/{model._meta.app_label}/{model._meta.model_name}/" for model in admin.site._registry]
    model_pages = {key for route, key in all_patterns() if route.startswith(tuple(models))}

    for key, url in admin_urls(world).items():
        for role in ROLES:
            for method in ("get", "post"):
                observed = request(by_role[role], method, url)
                if role == "admin" and method == "get":
                    # An object's short URL sends on to its change page.
                    expected = ADMIN_ONLY_EXCEPTIONS.get(key, "302" if key.endswith("<path:object_id>/") else "200")
                elif role == "admin":
                    # An object's short URL sends on to its change page.
                    expected = ADMIN_POST_EXCEPTIONS.get(key, "302" if key.endswith("<path:object_id>/") else "200")
                elif key == "admin:login":
                    expected = "200"  # the admin's login form, which tells a researcher they are not an admin
                elif key == "admin:logout" and role != "anonymous":
                    expected = "302"  # to the admin's index, then its login page
                elif role == "anonymous":
                    # On a model's pages the project's login comes first (LoginRequiredMiddleware); elsewhere the
                    # admin's own.
                    expected = "login" if key in model_pages else "admin-login"
                else:
                    expected = "admin-login"
                assert observed == expected, (key, role, method)


def test_ids_from_another_study_reach_nothing(client, world):
    """The owner of one study tries every id-taking URL of it with the objects of a study she is not in."""
    study, owner = world["study"], world["people"]["owner"]
    theirs = StudyFactory()
    codebook_load(theirs, preset("silent-bugs"), screening=False)
    their_issue = StudyIssueFactory(study=theirs).issue
    their_member = MembershipFactory(study=theirs, role="annotator")
    their_choice = theirs.fields.get(key="impact").choices.first()
    theirs.fields.create(key="only_theirs", label="Only theirs", kind="text")
    repository = their_issue.repository
    on_their_issue = [study.slug, repository.owner, repository.name, their_issue.number]
    client.force_login(owner)
    before = snapshot(theirs)

    attempts = {
        "studies:member_remove": [study.slug, their_member.pk],
        "studies:choice_edit": [study.slug, "impact", their_choice.pk],
        "studies:choice_remove": [study.slug, "impact", their_choice.pk],
        "studies:field_edit": [study.slug, "only_theirs"],
        "studies:field_remove": [study.slug, "only_theirs"],
        "studies:choice_new": [study.slug, "only_theirs"],
        "studies:profile_edit": [study.slug, theirs.export_profiles.get().pk],
        "studies:profile_delete": [study.slug, theirs.export_profiles.get().pk],
        **dict.fromkeys(("annotate", "reconcile", "issue_history", "issue_assignments"), on_their_issue),
        **dict.fromkeys(
            ("submit", "active_time", "decision", "accept_agreed", "reopen", "discussion_comment"), on_their_issue
        ),
        **dict.fromkeys(("issue_assignment_change",), on_their_issue),
        "studies:save_field": [*on_their_issue, "impact"],
        "studies:final_value": [*on_their_issue, "impact"],
        "agreement:primary": [study.slug, "only_theirs"],
    }
    for name, args in attempts.items():
        name = name if ":" in name else f"studies:{name}"
        url = reverse(name, args=args)
        data = {"label": "Renamed", "value": "x", "annotator": their_member.user.username, "body": "hi"}
        for response in (client.get(url), client.post(url, data)):
            assert response.status_code in (404, 405), name
    response = client.post(reverse("studies:codebook_copy", args=[study.slug]), {"source": theirs.slug})
    assert response.status_code == 404
    assert snapshot(theirs) == before


def snapshot(study) -> dict:
    return {
        "members": sorted(study.memberships.values_list("pk", "role")),
        "fields": sorted(study.fields.values_list("key", "label")),
        "choices": sorted(Choice.objects.filter(field__study=study).values_list("pk", "label")),
        "assignments": sorted(study.assignments.values_list("pk", "annotator_id", "status")),
        "stages": sorted(study.study_issues.values_list("pk", "stage")),
        "profiles": sorted(study.export_profiles.values_list("pk", "name", "columns")),
    }
