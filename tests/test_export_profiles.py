"""Export profiles: the paper's data.csv written back byte for byte, the checks on a profile, the profiles page,
the downloads, the command, and profiles in codebook files and study archives."""

import csv
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotator.csv_writer import BOM
from studies.annotation import annotation_save, assignment_submit
from studies.codebook import codebook_export, codebook_load, preset
from studies.export_profiles import ProfileError, profile_save
from studies.models import ExportProfile, Stage, Study, StudyIssue
from studies.transfer import export_study, import_study
from studies.workflow import decide, final_value_save
from tests.factories import AssignmentFactory, IssueFactory, MembershipFactory, UserFactory
from tests.helpers import FormPage

pytestmark = pytest.mark.django_db

PAPER = Path(__file__).parent / "data" / "silent-bugs-data.csv"
# Rows 1–4 of the paper, then rows with a long fixed version, a note for a gist, no commit, a quote, "2,2".
ROWS = ["1", "2", "3", "4", "9", "20", "22", "43", "46", "76"]  # 20: included without an impact level


def paper_lines() -> list[str]:
    return PAPER.read_text(encoding="utf-8").splitlines()


def paper_values(row: dict) -> dict:
    """A row of the paper's data.csv as the values an annotator enters ("None" where they leave a field empty)."""
    given = {
        "gist_urls": row["gist"],
        "scenario": row["Final Scenario"],
        "component": [row[f"Final Component {n}"] for n in (1, 2) if row[f"Final Component {n}"] != "None"],
        "impact": row["Impact"],
        "buggy_version": row["Buggy Version"],
        "fixed_version": row["Fixed Version"],
        "fixing_commits": row["Fixing commit"],
    }
    return {key: value for key, value in given.items() if value not in ("None", "")}


def label_as_the_paper(study: Study, rows: list[dict], *, excluded: int | None = None) -> None:
    """Each row an issue of tensorflow/tensorflow, added in this order, labelled alike by two annotators, its final
    values set and included by an adjudicator; but the row at index `excluded`, which is excluded."""
    fields = {field.key: field for field in study.fields.all()}
    alice, bruno = (MembershipFactory(study=study, role="annotator").user for _ in range(2))
    adjudicator = MembershipFactory(study=study, role="adjudicator").user
    for index, row in enumerate(rows):
        number = int(row["url"].rsplit("/", 1)[1])
        issue = IssueFactory(repository__owner="tensorflow", repository__name="tensorflow", number=number)
        study.add_issues([issue.pk])
        values = paper_values(row)
        for annotator in (alice, bruno):
            AssignmentFactory(study=study, issue=issue, annotator=annotator, stage=Stage.LABELLING)
        for assignment in issue.assignments.all():
            for key, value in values.items():
                annotation_save(assignment=assignment, field=fields[key], value=value)
            assignment_submit(assignment=assignment)
        study_issue = StudyIssue.objects.get(study=study, issue=issue)
        for key, value in values.items():
            final_value_save(study_issue, fields[key], value=value, rationale="", user=adjudicator)
        decide(study_issue, include=index != excluded, user=adjudicator, reason="not_a_bug")


@pytest.fixture
def paper_study(study):
    codebook_load(study, preset("silent-bugs"), screening=False)
    return study


def test_the_paper_profile_writes_the_papers_data_csv_back(paper_study, tmp_path):
    lines = paper_lines()
    rows = [row for row in csv.DictReader(lines, delimiter=";") if row["Issue number"] in ROWS]
    # An issue the paper left out, between its second and third rows: only the included issues are written,
    # numbered as they are written.
    left_out = {**rows[0], "url": "https://github.com/tensorflow/tensorflow/issues/99999"}
    label_as_the_paper(paper_study, [*rows[:2], left_out, *rows[2:]], excluded=2)

    call_command("export_labels", "--study", paper_study.slug, "--profile", "paper", "-o", str(tmp_path / "data.csv"))

    written = (tmp_path / "data.csv").read_bytes()
    expected = [lines[0]] + [line for line in lines[1:] if line.split(";")[0] in ROWS]
    # The header and rows 1–4 as the paper has them; the later rows too, but for the running number: the paper's
    # own numbers skip the issues it left out.
    renumbered = [f"{number};{line.split(';', 1)[1]}" for number, line in enumerate(expected[1:], 1)]
    assert renumbered[:4] == expected[1:5]
    assert written == (BOM + "\n".join([expected[0], *renumbered]) + "\n").encode("utf-8")


def test_an_issue_without_final_values_shows_the_empty_cell_text(client, paper_study):
    lines = paper_lines()
    rows = list(csv.DictReader(lines[:3], delimiter=";"))
    label_as_the_paper(paper_study, rows)
    profile = paper_study.export_profiles.get(name="paper")
    profile_save(paper_study, {"included_only": False}, profile=profile)
    annotator = MembershipFactory(study=paper_study, role="annotator").user
    newcomer = IssueFactory()
    paper_study.add_issues([newcomer.pk])
    AssignmentFactory(study=paper_study, issue=newcomer, annotator=annotator, stage=Stage.LABELLING)
    client.force_login(MembershipFactory(study=paper_study, role="owner").user)
    response = client.get(reverse("studies:export", args=[paper_study.slug]) + "?profile=paper")

    assert response["Content-Disposition"] == f'attachment; filename="{paper_study.slug}-paper.csv"'
    written = b"".join(response.streaming_content).decode("utf-8").removeprefix(BOM).split("\n")
    assert written[3] == f"3;{newcomer.html_url};None;None;None;None;None;None;None;None"


@pytest.mark.parametrize(
    ("change", "message", "field"),
    [
        ({"name": "  "}, "Give the profile a name.", "name"),
        ({"name": "paper"}, "There is a profile “paper” already.", "name"),
        ({"separator": ";;"}, "The separator is one character, not ';;'.", "separator"),
        ({"separator": ""}, "The separator is one character, not ''.", "separator"),
        ({"separator": '"'}, "The separator cannot be '\"'", "separator"),
        ({"empty": "n" * 21}, "The text for an empty cell is at most 20 characters, not 21.", "empty"),
        ({"order": "random"}, "order is one of issue, added, not 'random'.", "order"),
        ({"line_end": "cr"}, "line_end is one of crlf, lf, not 'cr'.", "line_end"),
        ({"columns": []}, "A profile needs at least one column.", "columns"),
        (
            {"columns": [{"value": "url"}, {"value": "final:impcat", "header": "Impact"}]},
            "Column 2: the codebook has no field “impcat”; its fields are scenario, component, impact,",
            "columns",
        ),
        (
            {"columns": [{"value": "final:scenario:1"}]},
            "Column 1: only a multiple-choice field's values are numbered; scenario is single choice.",
            "columns",
        ),
        (
            {"columns": [{"value": "final:component:3"}]},
            "Column 1: component holds values 1 to 2, not “3”.",
            "columns",
        ),
        ({"columns": [{"value": "github_number"}]}, "Column 1: “github_number” is not something a column", "columns"),
    ],
)
def test_a_wrong_profile_is_refused_saying_what_is_wrong(paper_study, change, message, field):
    data = {"name": "journal", "columns": [{"value": "url", "header": "URL"}], **change}
    with pytest.raises(ProfileError) as refused:
        profile_save(paper_study, data)
    assert str(refused.value).startswith(message) and refused.value.field == field
    assert list(paper_study.export_profiles.values_list("name", flat=True)) == ["paper"]


# --- the page ---


def profiles_url(study, name="studies:profiles", *extra):
    return reverse(name, args=[study.slug, *extra])


def test_an_owner_adds_a_profile_and_a_mistake_comes_back_as_typed(client, paper_study):
    client.force_login(MembershipFactory(study=paper_study, role="owner").user)
    typed = {
        "name": "journal",
        "columns": "number = GitHub number\nfinal:scenario = Scenario\nfinal:componnet:1 = First component",
        "separator": "tab",
        "empty": "NA",
        "joiner": " | ",
        "order": "issue",
        "line_end": "crlf",
    }

    refused = client.post(profiles_url(paper_study, "studies:profile_new"), typed)

    assert refused.status_code == 422
    page = FormPage(refused.text)
    assert page.errors_at("profile-new-columns") == [
        "Column 3: the codebook has no field “componnet”; its fields are scenario, component, impact, root_cause, "
        "gist_urls, reproduced, buggy_version, fixed_version, fixing_commits, rejection_reason."
    ]
    assert "final:componnet:1 = First component" in refused.text
    assert page.value("profile-new-name") == "journal"

    typed["columns"] = typed["columns"].replace("componnet", "component")
    added = client.post(profiles_url(paper_study, "studies:profile_new"), typed)

    profile = paper_study.export_profiles.get(name="journal")
    assert added.status_code == 302 and added["Location"].endswith(f"#profile-{profile.pk}")
    assert profile.columns == [
        {"value": "number", "header": "GitHub number"},
        {"value": "final:scenario", "header": "Scenario"},
        {"value": "final:component:1", "header": "First component"},
    ]
    assert (profile.separator, profile.empty, profile.joiner, profile.included_only) == ("\t", "NA", " | ", False)
    detail = client.get(reverse("studies:detail", args=[paper_study.slug])).text
    assert f'href="{reverse("studies:export", args=[paper_study.slug])}?profile=journal"' in detail


def test_the_profiles_page_takes_a_constant_number_of_queries(client, paper_study, django_assert_max_num_queries):
    client.force_login(MembershipFactory(study=paper_study, role="owner").user)
    for number in range(5):
        profile_save(paper_study, {"name": f"journal {number}", "columns": [{"value": "final:component:1"}]})
    with django_assert_max_num_queries(12):
        assert client.get(profiles_url(paper_study)).status_code == 200


def test_an_owner_edits_and_deletes_a_profile(client, paper_study):
    client.force_login(MembershipFactory(study=paper_study, role="owner").user)
    profile = paper_study.export_profiles.get(name="paper")
    shown = FormPage(client.get(profiles_url(paper_study)).text)
    assert shown.value(f"profile-{profile.pk}-separator") == ";"

    client.post(
        profiles_url(paper_study, "studies:profile_edit", profile.pk),
        {"name": "paper (comma)", "columns": "url = url", "separator": ",", "order": "added", "line_end": "lf"},
    )
    profile.refresh_from_db()
    assert (profile.name, profile.columns, profile.separator) == (
        "paper (comma)",
        [{"value": "url", "header": "url"}],
        ",",
    )

    client.post(profiles_url(paper_study, "studies:profile_delete", profile.pk))
    assert not paper_study.export_profiles.exists()


def test_only_those_who_manage_the_study_manage_its_profiles(client, paper_study):
    profile = paper_study.export_profiles.get(name="paper")
    urls = [
        profiles_url(paper_study, "studies:profile_new"),
        profiles_url(paper_study, "studies:profile_edit", profile.pk),
        profiles_url(paper_study, "studies:profile_delete", profile.pk),
    ]
    anonymous = client.get(profiles_url(paper_study))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    for role in ("annotator", "adjudicator", None):
        user = MembershipFactory(study=paper_study, role=role).user if role else UserFactory()
        client.force_login(user)
        assert client.get(profiles_url(paper_study)).status_code == 404
        assert [client.post(url, {"name": "x", "columns": "url"}).status_code for url in urls] == [404] * 3
    assert paper_study.export_profiles.get() == profile
    client.force_login(MembershipFactory(study=paper_study, role="owner").user)
    assert client.get(urls[2]).status_code == 405


def test_a_profile_downloads_for_those_who_may_export_only(client, paper_study):
    url = reverse("studies:export", args=[paper_study.slug]) + "?profile=paper"
    client.force_login(MembershipFactory(study=paper_study, role="annotator").user)
    assert client.get(url).status_code == 404
    client.force_login(MembershipFactory(study=paper_study, role="adjudicator").user)
    assert b"".join(client.get(url).streaming_content).decode("utf-8") == BOM + paper_lines()[0] + "\n"
    assert client.get(url.replace("paper", "nope")).status_code == 404


# --- the command, codebook files, study archives ---


def test_the_command_names_a_missing_profile_and_refuses_other_layout_options(paper_study):
    with pytest.raises(
        CommandError, match=f"Study '{paper_study.slug}' has no export profile 'Paper'; it has: paper."
    ):
        call_command("export_labels", "--study", paper_study.slug, "--profile", "Paper")
    with pytest.raises(CommandError, match="A profile says how the file is laid out"):
        call_command("export_labels", "--study", paper_study.slug, "--profile", "paper", "--layout", "long")


def test_profiles_travel_with_the_codebook_and_the_study_archive(paper_study, tmp_path):
    profile_save(
        paper_study,
        {"name": "journal", "columns": [{"value": "title", "header": "Title"}], "separator": "\t", "empty": "NA"},
    )
    copy = Study.objects.create(name="Copy", slug="copy")
    codebook_load(copy, codebook_export(paper_study), screening=False)
    assert codebook_export(copy)["export_profiles"] == codebook_export(paper_study)["export_profiles"]

    archive = tmp_path / "study.json.gz"
    with archive.open("wb") as out:
        export_study(paper_study, out)
    imported = import_study(archive, slug="moved").study

    def profiles(study):
        return list(study.export_profiles.values(*[field.name for field in ExportProfile._meta.fields[2:]]))

    assert profiles(imported) == profiles(paper_study) and len(profiles(imported)) == 2
