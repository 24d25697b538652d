"""A research team's whole study in Chromium, the way a team runs it, then every value checked.

An admin creates three accounts in the app and a study from the silent-bugs preset, uploads issue files on the
Imports page (the task worker imports them into the study) and assigns the screening. Two annotators screen
with the keyboard (one split vote, discussed and accepted by the adjudicator), then label with the keyboard,
agreeing on some fields and not on others, every field kind both ways. The adjudicator finds the agreed values
final already, forgets the rationale once, settles the rest, includes two issues and excludes one as a
duplicate. Then every download, read back value by value against the database.
"""

import csv
import io
import json
import re
from pathlib import Path

import krippendorff
import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect
from sklearn.metrics import cohen_kappa_score

from annotator.bidi import isolate
from issues.models import ImportRun
from studies.models import Annotation, FinalValue, IssueStage, Study, StudyIssue
from tests.factories import AdminFactory
from tests.helpers import DATA, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long passphrase for the study"
FILES = [DATA / f"github-issues/deepflow/issue_{number}.json" for number in (10482, 10517, 11203, 18820)]
BUG, DUPLICATE, SPLIT, SCREENED_OUT = 10482, 10517, 11203, 18820
# Screening votes of ana and ben: the split one goes to the discussion, two no votes exclude.
VOTES = {BUG: ("1", "1"), DUPLICATE: ("1", "1"), SPLIT: ("1", "2"), SCREENED_OUT: ("2", "2")}


SHA_A, SHA_B = "ace3bf65e6f64cad22e7d1cd4b182a062a55dc5b", "c3a2ca98ea09e60fd2b855aee31a5093fd6b6163"
LONG_FIXED = (
    "Fix is not accessible. Nightly seems to fix it. A gist of the resolved problem is accessible: "
    "https://colab.research.google.com/gist/jvishnuvardhan/7e5689d9d23203acd54f266b8e88a35d/untitled765.ipynb"
)
# What ana and ben enter: keys pressed on a choice field, text typed into a text field. Each kind agreed on one
# issue and differing on the other; the duplicate, all agreed.
LABELS = {
    BUG: {
        "scenario": ("1", "1"),  # Wrong shape
        "component": ("1", "12"),  # Engine / Engine and Layers
        "impact": ("4", "4"),
        "gist_urls": ("https://gist.github.com/ana/1 => not replicated",) * 2,
        "buggy_version": ("2.3.0", "2.3.0 and 2.4.0"),
        "fixing_commits": (SHA_A, SHA_A),
    },
    SPLIT: {
        "scenario": ("7", "4"),  # Wrong calculation / Wrong parameter setting
        "component": ("6", "6"),  # Optimizer
        "impact": ("3", "4"),
        "gist_urls": ("https://colab.research.google.com/drive/1", "https://colab.research.google.com/drive/2"),
        "fixed_version": (LONG_FIXED, LONG_FIXED),
        "fixing_commits": (SHA_A, SHA_B),
    },
    DUPLICATE: {"scenario": ("2", "2"), "component": ("1", "1"), "impact": ("1", "1")},
}


def enter(page: Page, key: str, value: str) -> None:
    """Keys on a choice field (focused as Tab would), or text typed into a text field; then saved."""
    field = page.locator(f"#field-{key}")
    if field.locator(".choices input").count():
        field.locator(".choices input").first.focus()
        for digit in value:
            page.keyboard.press(digit)
    else:
        field.locator(f"#{key}-value").focus()
        page.keyboard.type(value)
        page.keyboard.press("Escape")
    expect(field.locator(".save-state")).to_have_text("Saved")


def reconcile_url(study, number: int) -> str:
    return reverse("studies:reconcile", args=[study.slug, "deepflow", "deepflow", number])


def settle(page: Page, key: str, rationale: str, shown: str) -> None:
    """The adjudicator's final value for a field where the annotators differ, with the rationale it needs."""
    row = page.locator(f"#final-{key}")
    row.get_by_label(re.compile("^Rationale")).fill(rationale)
    row.get_by_role("button", name="Set the final value").click()
    expect(row.locator(".save-state")).to_contain_text(shown)


def decide(page: Page, decision: str, note: str) -> None:
    page.get_by_label(decision).check()
    page.get_by_label("Rationale (Markdown)").fill(note)
    page.get_by_role("button", name="Record the decision").click()


ANNOTATORS_CSV = "CSV with each annotator's values"
LONG_CSV = "every annotation, one row per value (the import format)"
STUDY_DOWNLOADS = ("CSV", "CSV for Excel", "JSON", ANNOTATORS_CSV, LONG_CSV, "Full history (CSV)", "paper")


def download(page: Page, link) -> bytes:
    with page.expect_download() as started:
        link.click()
    return Path(started.value.path()).read_bytes()


# The final values the team arrived at: (value, source, who agreed, rationale).
FINAL = {
    (BUG, "scenario"): ("Wrong shape", "agreed", ["ana", "ben"], ""),
    (BUG, "component"): (["Engine", "Layers"], "adjudicated", [], "The fix touches both the engine and the layers."),
    (BUG, "impact"): (4, "agreed", ["ana", "ben"], ""),
    (BUG, "gist_urls"): ("https://gist.github.com/ana/1 => not replicated", "agreed", ["ana", "ben"], ""),
    (BUG, "buggy_version"): ("2.3.0 and 2.4.0", "adjudicated", [], "Ben ran both versions."),
    (BUG, "fixing_commits"): ([SHA_A], "agreed", ["ana", "ben"], ""),
    (DUPLICATE, "scenario"): ("Wrong displayed message", "agreed", ["ana", "ben"], ""),
    (DUPLICATE, "component"): (["Engine"], "agreed", ["ana", "ben"], ""),
    (DUPLICATE, "impact"): (1, "agreed", ["ana", "ben"], ""),
    (SPLIT, "scenario"): ("Wrong calculation", "adjudicated", [], "Zeros instead of sums: a calculation."),
    (SPLIT, "component"): (["Optimizer"], "agreed", ["ana", "ben"], ""),
    (SPLIT, "impact"): (4, "adjudicated", [], "Results change."),
    (SPLIT, "gist_urls"): (
        "https://colab.research.google.com/drive/1 and https://colab.research.google.com/drive/2",
        "adjudicated",
        [],
        "Both notebooks show it.",
    ),
    (SPLIT, "fixed_version"): (LONG_FIXED, "agreed", ["ana", "ben"], ""),
    (SPLIT, "fixing_commits"): ([SHA_A, SHA_B], "adjudicated", [], "Two commits fixed it."),
}
PAPER_CSV = (
    "\ufeffIssue number;url;gist;Final Scenario;Final Component 1;Final Component 2;Impact;Buggy Version;"
    "Fixed Version;Fixing commit\n"
    "1;https://github.com/deepflow/deepflow/issues/10482;https://gist.github.com/ana/1 => not replicated;"
    f"Wrong shape;Engine;Layers;4;2.3.0 and 2.4.0;None;{SHA_A}\n"
    "2;https://github.com/deepflow/deepflow/issues/11203;"
    "https://colab.research.google.com/drive/1 and https://colab.research.google.com/drive/2;"
    f"Wrong calculation;Optimizer;None;4;None;{LONG_FIXED};{SHA_A}, {SHA_B}\n"
)


def stored(field, entered: str):
    """What an annotator's keys or text should have stored: choices by their number, levels as numbers."""
    if field.kind == "commits":
        return [entered]
    if field.kind not in ("single", "multiple", "ordinal"):
        return entered
    choices = [choice.value for choice in field.choices.order_by("position")]
    picked = [choices[int(digit) - 1] for digit in entered]
    if field.kind == "multiple":
        return picked
    return int(picked[0]) if field.kind == "ordinal" else picked[0]


def check_database(study) -> None:
    fields = {field.key: field for field in study.fields.all()}
    for number, entries in LABELS.items():
        for annotator, username in enumerate(("ana", "ben")):
            answers = Annotation.objects.filter(
                assignment__issue__number=number, assignment__annotator__username=username, field__stage="labelling"
            )
            assert dict(answers.values_list("field__key", "value")) == {
                key: stored(fields[key], values[annotator]) for key, values in entries.items()
            }, (number, username)
    finals = FinalValue.objects.filter(study_issue__study=study)
    assert {
        (final.study_issue.issue.number, final.field.key): (
            final.value,
            final.source,
            final.agreed_by,
            final.rationale,
        )
        for final in finals.select_related("study_issue__issue", "field")
    } == FINAL
    assert {final.set_by.username for final in finals.filter(source="adjudicated")} == {"cleo"}
    decisions = {
        study_issue.issue.number: (
            study_issue.decision,
            study_issue.reason,
            study_issue.duplicate_of.number if study_issue.duplicate_of else None,
        )
        for study_issue in StudyIssue.objects.filter(study=study).select_related("issue", "duplicate_of")
    }
    assert decisions == {
        BUG: ("include", "", None),
        SPLIT: ("include", "", None),
        DUPLICATE: ("exclude", "duplicate", BUG),
        SCREENED_OUT: ("exclude", "screened_out", None),
    }


def check_downloads(study, files: dict[str, bytes]) -> None:
    text = {name: content.decode("utf-8") for name, content in files.items()}
    wide = {int(row["number"]): row for row in csv.DictReader(io.StringIO(text["CSV"]))}
    assert text["CSV for Excel"] == "\ufeff" + text["CSV"]
    assert [{key: str(value) for key, value in row.items()} for row in json.loads(text["JSON"])] == list(wide.values())
    assert {number: (row["stage"], row["decision"], row["exclusion_reason"]) for number, row in wide.items()} == {
        BUG: ("decided", "included", ""),
        SPLIT: ("decided", "included", ""),
        DUPLICATE: ("decided", "excluded", "duplicate"),
        SCREENED_OUT: ("decided", "excluded", "screened_out"),
    }
    assert wide[DUPLICATE]["duplicate_of"] == f"deepflow/deepflow#{BUG}"
    for (number, key), (value, source, *_) in FINAL.items():
        if isinstance(value, list) and key == "component":
            assert [wide[number]["component_1"], wide[number]["component_2"]] == [*value, ""][:2], (number, key)
        else:
            cell = "\n".join(value) if isinstance(value, list) else str(value)
            assert wide[number][key] == cell, (number, key)
        assert wide[number][f"{key}_source"] == source, (number, key)
    assert all(wide[SCREENED_OUT][key] == "" for key in ("scenario", "component_1", "impact"))

    with_annotators = {int(row["number"]): row for row in csv.DictReader(io.StringIO(text[ANNOTATORS_CSV]))}
    assert (with_annotators[BUG]["component__ana"], with_annotators[BUG]["component__ben"]) == (
        "Engine",
        "Engine\nLayers",
    )
    assert (with_annotators[SPLIT]["impact__ana"], with_annotators[SPLIT]["impact__ben"]) == ("3", "4")

    long = list(csv.DictReader(io.StringIO(text[LONG_CSV])))
    finals_long = {(row["issue"], row["field"], row["value"], row["source"]) for row in long if row["kind"] == "final"}
    assert finals_long == {
        (f"deepflow/deepflow#{number}", key, str(item), source)
        for (number, key), (value, source, *_) in FINAL.items()
        for item in (value if isinstance(value, list) else [value])
    }
    answers = [row for row in long if row["kind"] == "annotation" and row["stage"] == "labelling"]
    assert len(answers) == Annotation.objects.filter(assignment__study=study, field__stage="labelling").count() + sum(
        len(values[1]) - 1 for entries in LABELS.values() for key, values in entries.items() if key == "component"
    )

    history = list(csv.DictReader(io.StringIO(text["Full history (CSV)"])))
    agreed = {
        (row["object"], row["after"])
        for row in history
        if row["what"] == "final value" and row["field"] == "agreed by"
    }
    assert (f"Scenario of deepflow/deepflow#{BUG}", "ana, ben") in agreed
    settled = [
        row for row in history if row["object"] == f"Component of deepflow/deepflow#{BUG}" and row["user"] == "cleo"
    ]
    assert {(row["field"], row["after"]) for row in settled} >= {
        ("value", "Engine, Layers"),
        ("source", "adjudicated"),
        ("rationale", "The fix touches both the engine and the layers."),
    }

    assert text["paper"] == PAPER_CSV

    # Agreement, against independent implementations, on the values the annotators stored.
    report = json.loads(text["agreement JSON"])["fields"]
    impact = [
        [stored(study.fields.get(key="impact"), LABELS[number]["impact"][annotator]) for number in LABELS]
        for annotator in (0, 1)
    ]
    assert report["impact"]["items"] == 3
    assert report["impact"]["cohen_kappa"]["ana|ben"]["kappa"] == pytest.approx(cohen_kappa_score(*impact))
    assert report["impact"]["krippendorff_alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=impact, level_of_measurement="ordinal")
    )
    agreement_rows = {
        (row["field"], row["coefficient"]): row["value"] for row in csv.DictReader(io.StringIO(text["agreement CSV"]))
    }
    assert float(agreement_rows[("impact", "krippendorff_alpha")]) == pytest.approx(
        report["impact"]["krippendorff_alpha"], abs=1e-6
    )
    impact_line = next(line for line in text["agreement LaTeX"].splitlines() if line.startswith("Impact &"))
    assert f"{report['impact']['krippendorff_alpha']:.3f}" in impact_line


def create_account(admin: Page, open_as, username: str) -> Page:
    """The admin creates the account on the People page; its owner sets a password through the link and logs in."""
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    admin.get_by_role("link", name="New account").click()
    admin.get_by_label("Username").fill(username)
    admin.get_by_label("First name").fill(username.capitalize())
    admin.get_by_role("button", name="Create account").click()
    expect(admin.get_by_role("status")).to_have_text(f"Account {username} created.")
    link = admin.get_by_role("textbox", name="Link").input_value()

    page = open_as(None)
    page.goto(link)
    page.get_by_label(re.compile(r"^New password:?$")).fill(PASSWORD)
    page.get_by_label("New password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Set my password").click()
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your studies")).to_be_visible()
    return page


def issue_number(page: Page) -> int:
    return int(re.search(r"#(\d+)", page.locator("#issue-title").inner_text()).group(1))


def submit(page: Page) -> None:
    address = page.url
    page.keyboard.press("Control+Enter")
    page.wait_for_url(lambda url: url != address)


def test_a_team_runs_a_study_from_accounts_to_downloads(open_as, live_server, start_task_worker):
    base = live_server.url
    lead = AdminFactory(username="lead")
    admin = open_as(lead)
    ana, ben, cleo = (create_account(admin, open_as, name) for name in ("ana", "ben", "cleo"))

    # The study, from the preset; its members.
    admin.goto(base + reverse("studies:create"))
    admin.get_by_label("Name").fill("Silent bugs, replicated")
    admin.get_by_label("Slug").fill("silent-bugs")
    admin.get_by_label("Preset").select_option("silent-bugs")
    admin.get_by_role("button", name="Create").click()
    expect(admin.get_by_role("heading", name="How the study runs")).to_be_visible()
    members = admin.locator("section", has=admin.get_by_role("heading", name="Members"))
    for username, role in (("ana", "annotator"), ("ben", "annotator"), ("cleo", "adjudicator")):
        members.get_by_label("Username").fill(username)
        members.get_by_label("Role").select_option(role)
        members.get_by_role("button", name="Add").click()
        added = f"{username} is {role} of {isolate('Silent bugs, replicated')}."  # the name isolated: bidi-safe
        expect(admin.get_by_role("status")).to_have_text(added)
    study = Study.objects.get(slug="silent-bugs")

    # Issue files uploaded on the Imports page, into the study; the task worker imports them.
    start_task_worker()
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    admin.get_by_label("Dump files").set_input_files(FILES)
    admin.get_by_role("combobox", name=re.compile(r"^Study")).select_option(study.slug)
    admin.get_by_role("button", name="Import", exact=True).click()
    run = wait_until(
        lambda: ImportRun.objects.exclude(status__in=["queued", "running"]).first(),
        timeout=300,
        what="the task worker importing the files",
    )
    assert run.status == "done", run.error
    expect(admin.get_by_role("row", name="created 4")).to_be_visible()
    # The files hold comment counts but no comments: said, not shown as "0 comments".
    expect(admin.get_by_role("row", name="issues with comments on GitHub not imported 4")).to_be_visible()
    assert StudyIssue.objects.filter(study=study).count() == 4

    # Screening: everyone's two annotators, assigned at random and balanced.
    admin.goto(base + reverse("studies:manage", args=[study.slug]))
    admin.get_by_role("button", name="Assign at random, balanced").click()
    expect(admin.get_by_role("status")).to_contain_text("8")
    for annotator, page in enumerate((ana, ben)):
        page.goto(base + reverse("studies:next", args=[study.slug]))
        for _ in VOTES:
            number = issue_number(page)
            page.keyboard.press(VOTES[number][annotator])
            expect(page.locator("#field-silent_bug .save-state")).to_have_text("Saved")
            submit(page)
    stages = dict(StudyIssue.objects.filter(study=study).values_list("issue__number", "stage"))
    assert stages == {
        BUG: IssueStage.LABELLING,
        DUPLICATE: IssueStage.LABELLING,
        SPLIT: IssueStage.DISCUSSION,
        SCREENED_OUT: IssueStage.DECIDED,
    }

    # The split vote, discussed: ana says why, the adjudicator accepts it into labelling.
    cleo.goto(base + reconcile_url(study, SPLIT))
    expect(cleo.locator(".votes tbody tr")).to_have_count(2)
    cleo.get_by_label(re.compile("^Comment")).fill("@ben the loss is wrong without any error: silent, I think.")
    cleo.get_by_role("button", name="Post").click()
    expect(cleo.locator("#discussion")).to_contain_text("the loss is wrong without any error")
    cleo.get_by_label("accept into labelling").check()
    cleo.get_by_label("Reason (required)").fill("Wrong results, no error: a silent bug after all.")
    cleo.get_by_role("button", name="Record the decision").click()
    expect(cleo.locator(".messages")).to_contain_text("decision recorded")
    assert StudyIssue.objects.get(study=study, issue__number=SPLIT).stage == IssueStage.LABELLING

    # Labelling with the keyboard: every field kind agreed on one issue and differing on another.
    for annotator, page in enumerate((ana, ben)):
        page.goto(base + reverse("studies:next", args=[study.slug]))
        for _ in LABELS:
            number = issue_number(page)
            for key, values in LABELS[number].items():
                enter(page, key, values[annotator])
            submit(page)
        expect(page.locator(".messages")).to_contain_text("Nothing left to label")
        if page is ana:  # ben, still labelling, must not see what ana gave: not on Compare, not in History
            ben.goto(base + reconcile_url(study, BUG))
            expect(ben.get_by_role("heading", name="Not allowed")).to_be_visible()
            ben.goto(base + reverse("studies:issue_history", args=[study.slug, "deepflow", "deepflow", BUG]))
            expect(ben.locator("main")).to_contain_text("Silent bug? of ben")  # his own changes are there
            expect(ben.locator("main")).not_to_contain_text("ana/1 => not replicated")
            expect(ben.locator("main")).not_to_contain_text("2.3.0")
    stages = dict(StudyIssue.objects.filter(study=study).values_list("issue__number", "stage"))
    assert {number: stages[number] for number in LABELS} == dict.fromkeys(LABELS, IssueStage.RECONCILIATION)

    # Reconciliation: what both gave is final already; the adjudicator settles the rest.
    cleo.goto(base + reconcile_url(study, BUG))
    for key, shown in (("scenario", "Wrong shape"), ("impact", "4 — different results"), ("fixing_commits", SHA_A)):
        expect(cleo.locator(f"#final-{key} .save-state")).to_contain_text(f"Final: {shown}")
    component = cleo.locator("#final-component")
    component.get_by_label("Engine", exact=True).check()
    component.get_by_label("Layers", exact=True).check()
    component.get_by_role("button", name="Set the final value").click()  # the rationale forgotten
    expect(component.get_by_role("alert")).to_contain_text("Not saved.")
    expect(component.get_by_label("Engine", exact=True)).to_be_checked()
    expect(component.get_by_label("Layers", exact=True)).to_be_checked()
    assert not FinalValue.objects.filter(field__key="component", study_issue__issue__number=BUG).exists()
    settle(cleo, "component", "The fix touches both the engine and the layers.", "Final: Engine")
    cleo.locator("#final-buggy_version").get_by_role("textbox", name="Final Buggy version(s)").fill("2.3.0 and 2.4.0")
    settle(cleo, "buggy_version", "Ben ran both versions.", "Final: 2.3.0 and 2.4.0")
    decide(cleo, "include, with the final values", "Silent: the class weights are ignored without a word.")
    expect(cleo.locator("#decision")).to_contain_text("Included")

    # The split issue: including it before its differing fields are settled is refused, and says what is missing.
    cleo.goto(base + reconcile_url(study, SPLIT))
    decide(cleo, "include, with the final values", "Wrong cumulative sums.")
    expect(cleo.locator("#decision").get_by_role("alert")).to_contain_text("Scenario")
    expect(cleo.locator("#decision").get_by_label("Rationale (Markdown)")).to_have_value("Wrong cumulative sums.")
    cleo.locator("#final-scenario").get_by_label("Wrong calculation", exact=True).check()
    settle(cleo, "scenario", "Zeros instead of sums: a calculation.", "Final: Wrong calculation")
    cleo.locator("#final-impact").get_by_label("4 — different results").check()
    settle(cleo, "impact", "Results change.", "Final: 4 — different results")
    gists = "https://colab.research.google.com/drive/1 and https://colab.research.google.com/drive/2"
    cleo.locator("#final-gist_urls").get_by_role("textbox", name="Final Reproduction links").fill(gists)
    settle(cleo, "gist_urls", "Both notebooks show it.", "Final: https://colab.research.google.com/drive/1")
    cleo.locator("#final-fixing_commits").get_by_role("textbox", name="Final Fixing commit(s)").fill(
        f"{SHA_A}\n{SHA_B}"
    )
    settle(cleo, "fixing_commits", "Two commits fixed it.", f"Final: {SHA_A}")
    decide(cleo, "include, with the final values", "Wrong cumulative sums.")
    expect(cleo.locator("#decision")).to_contain_text("Included")

    # The duplicate: excluded, pointing at the bug it repeats.
    cleo.goto(base + reconcile_url(study, DUPLICATE))
    cleo.get_by_label("exclude", exact=True).check()
    cleo.get_by_label("Reason for excluding").select_option("duplicate")
    cleo.get_by_role("textbox", name="Duplicate of").fill(f"deepflow/deepflow#{BUG}")
    cleo.get_by_label("Rationale (Markdown)").fill("Same class-weight bug.")
    cleo.get_by_role("button", name="Record the decision").click()
    expect(cleo.locator("#decision")).to_contain_text(f"duplicate of another issue of deepflow/deepflow#{BUG}")

    # Every download, as the owner gets it from the study and agreement pages.
    admin.goto(base + reverse("studies:detail", args=[study.slug]))
    files = {name: download(admin, admin.get_by_role("link", name=name, exact=True)) for name in STUDY_DOWNLOADS}
    admin.goto(base + reverse("agreement:report", args=[study.slug]))
    downloads = admin.get_by_text("Download:")
    files |= {
        f"agreement {name}": download(admin, downloads.get_by_role("link", name=name))
        for name in ("CSV", "JSON", "LaTeX")
    }
    check_database(study)
    check_downloads(study, files)
