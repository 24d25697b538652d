"""The hostile corpus (tests/hostile.py), imported as any dump is, on every page that shows it, in Chromium: no script
runs, no dialog opens, no request leaves for another host, and the page stays responsive with a 200 KB body and a
10,000-line code block."""

import io
import time
from urllib.parse import quote, urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from playwright.sync_api import Page, Route, expect

from issues.models import ImportRun, Issue
from issues.search import index_stale_issues
from studies.annotation import annotation_save, assignment_submit
from studies.codebook import codebook_load, preset
from studies.discussion import comment_post
from studies.models import CodebookField, Membership, Stage, StudyIssue
from studies.workflow import decide, final_value_save
from tests import hostile
from tests.factories import AdminFactory, AssignmentFactory, MembershipFactory, StudyFactory
from tests.helpers import csp_violations, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Before any page script, in every frame: what the corpus must never achieve, as one check.
CANARY_CHECK = """
window.__hostileCheck = () => {
  const problems = [];
  if (typeof top.__pwned !== "undefined") problems.push("top.__pwned = " + String(top.__pwned));
  if (document.querySelector("base, meta[http-equiv]")) problems.push("a <base> or <meta http-equiv> got in");
  // What strangers and researchers wrote, wherever a page shows it as HTML.
  const theirs = ".markdown-body, .guidelines, .definition, .snippet, #issue-title, .issue-meta, .labels";
  const inside = `:is(${theirs}) :not(.body-cut, .body-cut *)`;
  for (const element of document.querySelectorAll(`:is(${theirs}) :is(script, style, iframe, frame, object, embed,
      svg, math, form, button, link, meta, base, template, video, audio, picture, source, textarea, select)`)) {
    problems.push("<" + element.tagName.toLowerCase() + "> in " + element.closest(theirs).className);
  }
  for (const element of document.querySelectorAll(inside)) {
    for (const attribute of element.attributes) {
      if (/^(on|hx-|data-|(style|id|name|srcset|src|formaction|action|background|poster)$)/i.test(attribute.name)) {
        problems.push(element.tagName.toLowerCase() + " keeps " + attribute.name + "=" + attribute.value.slice(0, 60));
      }
    }
    if (element.matches("a[href]") && !["http:", "https:", "mailto:"].includes(element.protocol)) {
      problems.push("a link to " + element.getAttribute("href").slice(0, 60));
    }
    if (element.matches(".workspace, .codebook-pane, .save-state, .button, .primary")) {
      problems.push(element.tagName.toLowerCase() + " borrows the page's class " + element.className);
    }
  }
  return problems;
};
"""
# A page a payload froze never answers; 10 s leaves room for a loaded 2-core machine and still catches it.
RESPONSIVE_SECONDS = 10.0
COMMENT_CHARS = 19_000  # a discussion comment takes at most 20,000


class Watch:
    """Dialogs opened and requests to any host but the live server's (each one refused), while the page is open."""

    def __init__(self, page: Page, live_server):
        self.page = page
        self.host = urlsplit(live_server.url).netloc
        self.dialogs: list[str] = []
        self.foreign: list[str] = []
        page.add_init_script(CANARY_CHECK)
        page.on("dialog", self.dismiss)
        page.route("**/*", self.route)

    def dismiss(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def route(self, route: Route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in {"http", "https", "ws", "wss"} and url.netloc != self.host:
            self.foreign.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    def open(self, url: str) -> None:
        """Open the page, let it settle, and check that nothing hostile got through."""
        response = self.page.goto(url)
        assert response.status == 200, url
        self.page.wait_for_load_state("load")
        self.assert_responsive()
        assert self.page.evaluate("window.__hostileCheck()") == [], url
        assert self.dialogs == [], url
        assert self.foreign == [], url
        # The sanitiser removed it all: the Content-Security-Policy had nothing left to block.
        assert csp_violations(self.page) == [], url

    def assert_responsive(self) -> None:
        """Script answers and the page paints two frames, within RESPONSIVE_SECONDS."""
        started = time.monotonic()
        self.page.evaluate("() => new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)))")
        assert time.monotonic() - started < RESPONSIVE_SECONDS


@pytest.fixture
def corpus(tmp_path):
    """The corpus imported with import_issues into a study, labelled, discussed and decided with hostile text."""
    admin = AdminFactory(username="admin")
    chunks = hostile.markdown_chunks(10_000)
    study = StudyFactory(name=hostile.TITLES[0], description=hostile.TITLES[1], guidelines="\n\n".join(chunks))
    codebook_load(study, preset("silent-bugs"), screening=False)
    CodebookField.objects.filter(study=study).update(definition=chunks[0])
    study.fields.get(key="scenario").choices.update(definition=hostile.TITLES[1], examples=hostile.TITLES[0])
    MembershipFactory(study=study, user=admin, role=Membership.Role.OWNER)
    ann, bob = (MembershipFactory(study=study, role="annotator", user__username=name).user for name in ("ann", "bob"))

    with pytest.raises(CommandError, match="2 records could not be imported; the others were"):
        call_command("import_issues", *hostile.write_dump(tmp_path), "--study", study.slug, stdout=io.StringIO())
    index_stale_issues()
    issues = {issue.number: issue for issue in Issue.objects.filter(repository__owner="hostile")}
    assert sorted(issues) == [hostile.EVERYTHING, hostile.BIG, hostile.CODE, hostile.NESTED, hostile.TRICKY]

    # Two annotators label the first issue with hostile notes, Other texts and versions; it is decided with a
    # hostile rationale and discussed in hostile comments. The others wait for ann.
    everything = issues[hostile.EVERYTHING]
    fields = {field.key: field for field in study.fields.all()}
    assignments = [
        AssignmentFactory(study=study, issue=everything, annotator=annotator, stage=Stage.LABELLING)
        for annotator in (ann, bob)
    ]
    for assignment in assignments:
        annotation_save(
            assignment=assignment, field=fields["scenario"], value={"other": hostile.TITLES[0]}, note=chunks[0]
        )
        annotation_save(assignment=assignment, field=fields["component"], value=["Engine"])
        annotation_save(
            assignment=assignment, field=fields["impact"], value="2", uncertain=True, note=hostile.TITLES[1]
        )
        annotation_save(assignment=assignment, field=fields["buggy_version"], value=hostile.TITLES[4][:100])
        assignment_submit(assignment=assignment)
    study_issue = StudyIssue.objects.get(study=study, issue=everything)
    final_value_save(study_issue, fields["buggy_version"], value=hostile.TITLES[0], rationale=chunks[1], user=admin)
    for chunk in hostile.markdown_chunks(COMMENT_CHARS):
        comment_post(study_issue, author=admin, body=f"@ann {chunk}")
    decide(
        study_issue,
        include=False,
        reason=StudyIssue.Reason.DUPLICATE,
        duplicate_of=issues[hostile.BIG],
        note=chunks[-1],
        user=admin,
    )
    for number in (hostile.BIG, hostile.CODE, hostile.NESTED, hostile.TRICKY):
        AssignmentFactory(study=study, issue=issues[number], annotator=ann, stage=Stage.LABELLING)
    return study, issues, admin, ann


def on_issue(name: str, study, issue, query: str = "") -> str:
    repository = issue.repository
    return reverse(name, args=[study.slug, repository.owner, repository.name, issue.number]) + query


def test_the_hostile_corpus_is_inert_on_every_page_that_shows_it(page: Page, live_server, corpus):
    study, issues, admin, ann = corpus
    watch = Watch(page, live_server)
    url = live_server.url

    log_in(page, live_server, ann)
    # The 200 KB body and the 10,000-line code block, whole: the keyboard and a click still work at once.
    for number in (hostile.BIG, hostile.CODE):
        watch.open(url + on_issue("studies:annotate", study, issues[number], "?full=1"))
        page.keyboard.press("1")  # the first choice of the focused field, saved by htmx
        expect(page.locator("#field-scenario .save-state")).to_have_text("Saved", timeout=RESPONSIVE_SECONDS * 1000)
        page.keyboard.press("?")
        expect(page.locator("#shortcuts")).to_be_visible(timeout=RESPONSIVE_SECONDS * 1000)
        page.keyboard.press("Escape")
        page.locator("#field-scenario details.definition summary").click()
        expect(page.locator("#field-scenario details.definition")).to_have_attribute("open", "")
        watch.assert_responsive()
    expect(page.locator("#issue-body .highlight pre")).to_contain_text(f"x_{hostile.CODE_LINES - 1} = tf.constant")
    for number in (hostile.NESTED, hostile.TRICKY, hostile.EVERYTHING):
        watch.open(url + on_issue("studies:annotate", study, issues[number]))
    expect(page.locator("#issue-body strong").first).to_have_text("rendered as Markdown")  # not shown as plain text
    watch.open(url + reverse("studies:notifications"))
    expect(page.locator(".notifications li")).to_have_count(len(hostile.markdown_chunks(COMMENT_CHARS)))

    page.context.clear_cookies()
    log_in(page, live_server, admin)
    import_run = ImportRun.objects.get()
    for path in [
        reverse("studies:list"),
        reverse("studies:detail", args=[study.slug]),
        reverse("studies:issues", args=[study.slug]) + f"?q={hostile.SEARCH_WORD}",
        on_issue("studies:reconcile", study, issues[hostile.EVERYTHING]),
        on_issue("studies:issue_history", study, issues[hostile.EVERYTHING]),
        reverse("studies:activity", args=[study.slug]),
        reverse("studies:codebook", args=[study.slug]),
        reverse("issues:import_list"),
        reverse("issues:import_detail", args=[import_run.pk]),
        reverse("admin:issues_issue_changelist"),
        reverse("admin:issues_issue_change", args=[issues[hostile.EVERYTHING].pk]),
        reverse("admin:issues_issue_change", args=[issues[hostile.BIG].pk]),
    ]:
        watch.open(url + path)
        if path.startswith(reverse("studies:issues", args=[study.slug])):
            expect(page.locator(".snippet")).to_have_count(len(issues))
            marked = {text.lower() for text in page.locator(".snippet mark").all_inner_texts()}
            assert marked == {hostile.SEARCH_WORD}  # the body's own \x02 and \x03 mark nothing
        if path == reverse("issues:import_detail", args=[import_run.pk]):
            expect(page.locator(".problems")).to_contain_text("html_url must be an http(s) URL")
            expect(page.locator(".files")).to_contain_text("issues-<img src=x onerror=")  # shown as text


def test_the_watch_catches_a_payload_that_runs(page: Page, live_server):
    """Without the sanitiser and the CSP, the corpus' payloads set the canary, open dialogs and reach evil.example."""
    watch = Watch(page, live_server)

    handler, alert, script = (
        next(payload for payload in hostile.RAW_HTML if payload.startswith(start))
        for start in ('<img src=x onerror="', '<img src="x" onerror="alert(1)"', "<script src=")
    )
    page.goto("data:text/html," + quote("\n".join([handler, alert, script])))
    page.wait_for_function("typeof top.__pwned !== 'undefined'")

    assert page.evaluate("window.__hostileCheck()") == ["top.__pwned = 1"]
    assert watch.dialogs == ["1"]
    assert f"{hostile.EVIL}/script.js" in watch.foreign
