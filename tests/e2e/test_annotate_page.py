"""The annotation page in Chromium: hostile Markdown stays inert, and the layout holds from laptop to wide monitor."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from studies.codebook import codebook_load, preset
from studies.models import Stage
from tests.factories import AssignmentFactory, IssueCommentFactory, IssueFactory, MembershipFactory, StudyIssueFactory
from tests.helpers import csp_violations, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Each line would set window.__pwned, open a dialog or load something if it ran.
HOSTILE = """
<script>window.__pwned = "script"</script>
<img src=x onerror="window.__pwned = 'onerror'">
<svg onload="window.__pwned = 'svg'"><circle r="5"/></svg>
<iframe src="javascript:parent.__pwned = 'iframe'"></iframe>
<a href="javascript:window.__pwned = 'link'">a javascript: link</a>
[a markdown javascript: link](javascript:window.__pwned='md')
[a data: link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
<div onmouseover="window.__pwned = 'hover'">hover me</div>
<details open ontoggle="window.__pwned = 'toggle'"><summary>s</summary>x</details>
<form action="https://evil.example/"><button>send</button></form>
<style>body { display: none }</style>
![tracking pixel](https://evil.example/pixel.png)
<noscript><p title="</noscript><img src=x onerror=window.__pwned='mxss'>"></noscript>
"""


def open_issue(page: Page, live_server, study, body: str, comment: str = "A comment.") -> None:
    codebook_load(study, preset("silent-bugs"), screening=False)
    issue = IssueFactory(body=body)
    IssueCommentFactory(issue=issue, body=comment)
    StudyIssueFactory(study=study, issue=issue)
    annotator = MembershipFactory(study=study, role="annotator").user
    AssignmentFactory(study=study, issue=issue, annotator=annotator, stage=Stage.LABELLING)
    log_in(page, live_server, annotator)
    repository = issue.repository
    page.goto(
        live_server.url
        + reverse("studies:annotate", args=[study.slug, repository.owner, repository.name, issue.number])
    )


def test_hostile_markdown_renders_inert(page: Page, live_server, study):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    open_issue(page, live_server, study, HOSTILE, comment=HOSTILE)

    body = page.locator("#issue-body")
    body.locator("text=hover me").hover()

    assert page.evaluate("window.__pwned") is None and dialogs == []
    assert page.locator(".issue-pane script, .issue-pane svg, .issue-pane iframe, .issue-pane form").count() == 0
    assert page.locator(".issue-pane [onerror], .issue-pane [onload], .issue-pane [onmouseover]").count() == 0
    hrefs = page.eval_on_selector_all(".issue-pane a[href]", "links => links.map(link => link.protocol)")
    assert set(hrefs) <= {"http:", "https:", "mailto:"}
    assert not [url for url in requests if "evil.example" in url]  # the image was not fetched
    expect(body.locator("a.md-image")).to_contain_text("tracking pixel")  # shown as a link instead
    expect(page.locator("#field-scenario")).to_be_visible()  # <style> did not hide the page
    assert csp_violations(page) == []  # the sanitiser stopped all of it; CSP had nothing left to block


@pytest.mark.parametrize("width, height", [(1280, 800), (2560, 1440)])
def test_the_layout_holds_from_laptop_to_wide_monitor(page: Page, live_server, study, width, height):
    page.set_viewport_size({"width": width, "height": height})
    long_line = "x = tf.constant([" + ", ".join(str(n) for n in range(400)) + "])"
    open_issue(page, live_server, study, f"Output:\n\n```python\n{long_line}\n```\n\n" + "word " * 400)

    page_scroll = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    code = page.locator("#issue-body pre").first
    code_scroll = code.evaluate("element => [element.scrollWidth, element.clientWidth]")
    issue_box = page.locator(".issue-pane").bounding_box()
    codebook_box = page.locator("#codebook").bounding_box()

    assert page_scroll[0] <= page_scroll[1], "the page itself never scrolls sideways"
    assert code_scroll[0] > code_scroll[1], "the long line scrolls inside its block"
    assert issue_box["x"] + issue_box["width"] <= codebook_box["x"] + 1, "issue and codebook side by side"
    assert codebook_box["x"] + codebook_box["width"] <= width


def test_an_image_is_shown_as_a_link_with_an_icon_every_browser_can_draw(page: Page, live_server, study):
    """The 🖼 glyph it had is missing from common fonts (a box on many machines): the icon is an SVG of ours."""
    icons = []
    page.on("response", lambda response: icons.append(response.status) if "/img/image.svg" in response.url else None)
    open_issue(page, live_server, study, "It looks like this:\n\n![the loss curve](https://example.com/loss.png)")

    image = page.locator("#issue-body a.md-image")
    expect(image).to_have_text("image: the loss curve (click to open)")
    expect(image).to_have_attribute("href", "https://example.com/loss.png")
    assert "\U0001f5bc" not in page.content()
    icon = image.evaluate("link => { const s = getComputedStyle(link, '::before'); return [s.maskImage, s.width]; }")
    assert "/static/img/image.svg" in icon[0] and icon[1] != "0px"
    page.wait_for_load_state("networkidle")
    assert icons == [200]
    assert csp_violations(page) == []
