"""Issue bodies rendered as GitHub renders them, and nothing in them able to run, load or restyle our pages."""

import re
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache

from bench.synthetic import synthetic_issues
from issues import markdown
from issues.markdown import in_app_issue_links, render_markdown, render_markdown_cached

REPO = "deepflow/deepflow"


def render(text: str, **kwargs) -> str:
    return render_markdown(text, repository=REPO, **kwargs)


def squash(html: str) -> str:
    """The HTML without the line ends between tags, which carry no meaning here."""
    return re.sub(r">\s+<", "><", html)


# --- GitHub's Markdown -------------------------------------------------------------------------------------------


def test_it_highlights_fenced_code_with_pygments_classes():
    html = render("```python\nimport os\n```")
    assert html.startswith('<div class="highlight"><pre>')
    assert '<span class="kn">import</span>' in html
    assert "style=" not in html


def test_it_renders_fenced_code_without_a_language_as_plain_code():
    html = render("```\nx = <b>1</b>\n```")
    assert '<div class="highlight"><pre>' in html
    assert "x = &lt;b&gt;1&lt;/b&gt;" in html


def test_it_renders_tables_with_alignment_as_attributes():
    html = squash(render("| a | b |\n|--:|---|\n| 1 | 2 |"))
    assert '<table><thead><tr><th align="right">a</th><th>b</th></tr></thead>' in html
    assert '<tbody><tr><td align="right">1</td><td>2</td></tr></tbody></table>' in html


def test_it_renders_task_lists_as_disabled_checkboxes():
    html = squash(render("- [ ] todo\n- [x] done"))
    assert html == (
        '<ul class="task-list">'
        '<li class="task-list-item"><input type="checkbox" disabled> todo</li>'
        '<li class="task-list-item"><input type="checkbox" disabled checked> done</li>'
        "</ul>"
    )


def test_it_strikes_through_double_tildes():
    assert render("~~gone~~") == "<p><del>gone</del></p>"


def test_it_links_bare_urls_and_email_addresses():
    html = render("See https://example.com/a?b=1 or www.example.org, or write to someone@example.com")
    assert (
        '<a href="https://example.com/a?b=1" rel="noopener noreferrer nofollow">https://example.com/a?b=1</a>' in html
    )
    assert '<a href="http://www.example.org" rel="noopener noreferrer nofollow">www.example.org</a>' in html
    assert '<a href="mailto:someone@example.com" rel="noopener noreferrer nofollow">someone@example.com</a>' in html


def test_it_links_issue_references_to_github():
    html = render("Duplicate of #12, see also keras-team/keras#345.")
    assert (
        '<a class="issue-ref" href="https://github.com/deepflow/deepflow/issues/12" '
        'rel="noopener noreferrer nofollow">#12</a>'
    ) in html
    assert '<a class="issue-ref" href="https://github.com/keras-team/keras/issues/345"' in html
    assert ">keras-team/keras#345</a>" in html


def test_it_links_issue_references_of_the_study_to_our_pages():
    def issue_url(number: int) -> str | None:
        return "/studies/1/issues/12/" if number == 12 else None

    html = render("#12 and #13 and deepflow/deepflow#12", issue_url=issue_url)
    assert html.count('<a class="issue-ref" href="/studies/1/issues/12/"') == 2
    assert '<a class="issue-ref" href="https://github.com/deepflow/deepflow/issues/13"' in html


@pytest.mark.parametrize(
    "text",
    ["`#12`", "[see #12](https://example.com)", "&#123;", "a#12", "https://example.com/#12", "#12abc", "#0"],
)
def test_it_does_not_link_what_only_looks_like_a_reference(text):
    assert "issue-ref" not in render(text)


def test_it_leaves_references_unlinked_without_a_repository():
    assert render_markdown("#12") == "<p>#12</p>"


def test_it_does_not_make_a_heading_of_a_reference_at_the_start_of_a_line():
    html = render("#12 is the same bug")
    assert html.startswith('<p><a class="issue-ref"')


def test_it_turns_line_breaks_inside_a_paragraph_into_br():
    assert render("line one\nline two") == "<p>line one<br>\nline two</p>"


def test_it_renders_crlf_bodies_as_lf_bodies():
    text = "**System information**\n- OS: Linux\n\n```python\nx = 1\n```\n\nline one\nline two\n"
    assert render(text.replace("\n", "\r\n")) == render(text)
    assert "\r" not in render(text.replace("\n", "\r\n"))


def test_it_starts_lists_tables_and_code_right_under_a_line_of_text():
    html = squash(
        render("**System information**\n- OS: Linux\n- Python: 3.12\n\nLogs:\n```\nlog\n```\nTimes:\n|a|\n|-|\n|1|")
    )
    assert html.startswith("<p><strong>System information</strong></p><ul><li>OS: Linux</li><li>Python: 3.12")
    assert '<p>Logs:</p><div class="highlight"><pre><span></span><code>log' in html
    assert "<p>Times:</p><table>" in html


def test_it_renders_markdown_inside_details():
    html = squash(render("<details><summary>Log</summary>\n\n```\nlog line\n```\n\n*more*\n\n</details>"))
    assert html.startswith('<details><summary>Log</summary><div class="highlight">')
    assert html.endswith("<p><em>more</em></p></details>")


def test_it_keeps_the_html_github_allows():
    html = render("Press <kbd>Ctrl</kbd>+<kbd>C</kbd>, H<sub>2</sub>O, x<sup>2</sup>,<br>done")
    assert html == "<p>Press <kbd>Ctrl</kbd>+<kbd>C</kbd>, H<sub>2</sub>O, x<sup>2</sup>,<br>done</p>"


def test_it_hides_html_comments():
    assert render("<!-- Please fill in the template -->\nHello <!-- inline --> there") == "\n<p>Hello  there</p>"


def test_it_adds_rel_to_every_link():
    html = render('[a](https://example.com) <a href="/relative">b</a> <a href="https://x.org" rel="opener">c</a>')
    assert html.count('rel="noopener noreferrer nofollow"') == 3
    assert '<a href="/relative"' in html
    assert "opener noreferrer nofollow" in html and 'rel="opener"' not in html


def test_it_keeps_classes_only_where_rendering_needs_them():
    assert render('<div class="card">a</div>') == "<div>a</div>"
    assert render('<span class="visually-hidden k">b</span>') == '<p><span class="k">b</span></p>'


def test_it_keeps_no_ids():
    assert render('<p id="csrf" name="x">a</p>') == "<p>a</p>"


# --- Images ----------------------------------------------------------------------------------------------------


def test_it_turns_images_into_links_to_them():
    html = render('![a chart](https://example.com/chart.png) <img src="https://example.com/b.png" alt="b">')
    assert "<img" not in html
    assert (
        '<a class="md-image" href="https://example.com/chart.png" rel="noopener noreferrer nofollow">'
        "image: a chart (click to open)</a>"
    ) in html
    assert '<a class="md-image" href="https://example.com/b.png"' in html


def test_it_names_an_image_without_alt_text_by_its_file():
    assert ">image: shot.png (click to open)" in render("![](https://example.com/x/shot.png)")


def test_it_escapes_the_alt_text_of_images():
    html = render('<img src="https://example.com/b.png" alt=\'"><script>alert(1)</script>\'>')
    assert ">image: &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt; (click to open)" in html


def test_it_shows_an_image_inside_a_link_as_text():
    html = render("[![build](https://ci.example.com/badge.svg)](https://ci.example.com)")
    assert html == (
        '<p><a href="https://ci.example.com" rel="noopener noreferrer nofollow">'
        '<span class="md-image">image: build</span></a></p>'
    )


@pytest.mark.parametrize(
    "text",
    [
        "![x](data:image/png;base64,iVBORw0KGgo=)",
        "![x](javascript:alert(1))",
        '<img src="/static/favicon.svg">',
        '<img src="//example.com/x.png">',
        '<img src="ftp://example.com/x.png">',
    ],
)
def test_it_drops_images_that_are_not_http(text):
    html = render(text)
    assert "<img" not in html
    assert "md-image" not in html


# --- Hostile input ---------------------------------------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="https://example.com/x.png" onerror="alert(1)">',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\tscript:alert(1))",
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    '<svg><use href="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+PC9zdmc+#x"/></svg>',
    "<svg><foreignObject><iframe src=javascript:alert(1)></iframe></foreignObject></svg>",
    '<iframe src="https://evil.example/"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "[x](data:text/html,<script>alert(1)</script>)",
    '<a href="vbscript:msgbox(1)">x</a>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<style>body { display: none }</style>",
    '<form action="https://evil.example/"><input type="submit" value="Go"><button formaction=x>b</button></form>',
    '<input type="text" name="password"><input type="hidden" value="x"><input type="image" src="x">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<base href="https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x.swf">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "![x](javascript:alert(1))",
    '![x](https://example.com/x.png"onerror="alert(1))',
    '[x](https://example.com "title\\" onmouseover=\\"alert(1)")',
    "<details open ontoggle=alert(1)><summary>s</summary>x</details>",
    '<a href="https://example.com" onclick="alert(1)" target="_blank">x</a>',
    "<template><script>alert(1)</script></template><textarea><script>alert(1)</script></textarea>",
    "<img src=`x` onerror=alert(1)>",
    '<a href="#" style="position:fixed;inset:0">cover the page</a>',
]


class StartTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


# Written out again, rather than taken from the module: a tag that slips into its allow-list must fail here.
SAFE_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
}
SAFE_ATTRIBUTES = {"href", "title", "class", "rel", "align", "colspan", "rowspan", "start", "open"}
CHECKBOXES = [{"type": "checkbox", "disabled": None}, {"type": "checkbox", "disabled": None, "checked": None}]


def assert_inert(html: str) -> None:
    """Every element and attribute is one that cannot run, load, submit or restyle anything."""
    # Text cannot hold a `<`: it would be escaped as &lt;.
    for tag in [
        "<script",
        "<style",
        "<svg",
        "<iframe",
        "<object",
        "<embed",
        "<form",
        "<meta",
        "<base",
        "<link",
        "<math",
        "<img",
    ]:
        assert tag not in html.lower(), tag
    parser = StartTags()
    parser.feed(html)
    parser.close()
    for tag, attributes in parser.tags:
        if tag == "input":
            assert attributes in CHECKBOXES
            continue
        assert tag in SAFE_TAGS
        for name, value in attributes.items():
            assert name in SAFE_ATTRIBUTES, name  # so no on…, style, id, target, src, srcdoc, formaction
            if name == "href":
                assert urlsplit(value).scheme in {"", "http", "https", "mailto"}, value
                assert not value.strip().lower().startswith(("javascript", "data", "vbscript")), value


@pytest.mark.parametrize("text", HOSTILE)
def test_it_renders_hostile_input_inert(text):
    assert_inert(render(text))


@pytest.mark.parametrize("text", HOSTILE)
def test_it_renders_hostile_input_inert_inside_markdown_structures(text):
    assert_inert(render(f"- item\n\n  > {text}\n\n<details><summary>{text}</summary>\n\n{text}\n\n</details>"))


# --- Size and cost ---------------------------------------------------------------------------------------------


def test_it_renders_a_1_mb_body():
    body = max((issue["body"] or "" for issue in synthetic_issues(2_000, seed=0)), key=len)
    assert len(body) > 1_000_000
    html = render(body)
    assert '<div class="highlight">' in html
    assert len(html) > len(body) * 0.9


def test_it_shows_huge_code_blocks_unhighlighted():
    html = render("```python\n" + "x = 1\n" * 50_000 + "```")
    assert html.startswith('<div class="highlight"><pre><code>x = 1\n')
    assert '<span class="n">' not in html


def test_it_stops_highlighting_after_100_blocks():
    html = render("```python\nx\n```\n\n" * 101)
    assert html.count('<span class="n">x</span>') == 100
    assert html.endswith('<div class="highlight"><pre><code>x</code></pre></div>')


def test_each_body_starts_afresh_although_one_renderer_serves_a_thread():
    """The Markdown instance is reused between bodies: nothing of one body may reach the next."""
    render("```python\nx\n```\n\n" * 101)  # spends the highlighting allowance
    assert render("```python\nx\n```").count('<span class="n">x</span>') == 1
    render("[^1]\n\n[a]: https://example.com/first-body\n\n*x*")  # a reference definition, stashed HTML
    assert render_markdown("[a]") == "<p>[a]</p>"
    assert "issue-ref" not in render_markdown("#12")  # no repository left over from the last body
    render("[" * 200_000)  # given up on half-way
    assert render("*still* fine") == "<p><em>still</em> fine</p>"


def test_each_thread_renders_with_its_own_instance():
    code = "```python\nx\n```\n" * 3
    bodies = [(f"{code}#{n} *{n}*", f"owner/repo{n % 3}") for n in range(1, 200)]
    expected = [render_markdown(text, repository=repository) for text, repository in bodies]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda body: render_markdown(body[0], repository=body[1]), bodies)) == expected


@pytest.mark.parametrize("unit", ["[", "<a ", "a\n", "*a* ", "```\n", "1. ", "> ", "<div>", "<![CDATA[ "])
def test_it_shows_bodies_that_would_take_hours_as_plain_text(unit):
    # Quadratic in Python-Markdown, html.parser or html5ever: each of these would take minutes or hours.
    body = unit * (1_000_000 // len(unit))
    html = render(body)
    assert html.startswith('<pre class="md-plain">')
    assert_inert(html)


def test_it_shows_only_the_costly_block_as_plain_text():
    html = render("Some *emphasis*.\n\n" + "[" * 100_000 + "\n\nMore **text**.")
    assert html.startswith("<p>Some <em>emphasis</em>.</p>")
    assert '<pre class="md-plain">[[[' in html
    assert html.endswith("<p>More <strong>text</strong>.</p>")


def test_it_replaces_lone_surrogates():
    assert render("a\ud800b") == "<p>a\ufffdb</p>"


# --- Cache ----------------------------------------------------------------------------------------------------


@pytest.fixture
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_it_renders_a_body_once_while_it_is_cached(empty_cache):
    with mock.patch("issues.markdown.render_markdown", wraps=render_markdown) as rendering:
        first = render_markdown_cached("*hello* #1", repository=REPO)
        second = render_markdown_cached("*hello* #1", repository=REPO)
    assert first == second == render("*hello* #1")
    assert rendering.call_count == 1


def test_it_renders_an_edited_body_anew(empty_cache):
    render_markdown_cached("*hello*", repository=REPO)
    assert render_markdown_cached("*hello!*", repository=REPO) == "<p><em>hello!</em></p>"


def test_it_keys_the_cache_by_repository(empty_cache):
    assert "deepflow/deepflow/issues/1" in render_markdown_cached("#1", repository=REPO)
    assert "keras-team/keras/issues/1" in render_markdown_cached("#1", repository="keras-team/keras")


def test_it_links_one_rendering_to_the_pages_of_each_study(empty_cache):
    rendered = render_markdown_cached("#1 and #2", repository=REPO)

    html = in_app_issue_links(rendered, REPO, {1: "/studies/7/issues/1/"}.get)

    assert '<a class="issue-ref" href="/studies/7/issues/1/"' in html
    assert "github.com/deepflow/deepflow/issues/2" in html  # #2 is not in that study
    assert "github.com" not in in_app_issue_links(rendered, REPO, lambda number: f"/s/8/{number}/")
    assert "github.com/deepflow/deepflow/issues/1" in render_markdown_cached("#1 and #2", repository=REPO)


def test_it_includes_the_renderer_version_in_the_key():
    key = markdown.cache_key("text", REPO)
    with mock.patch.object(markdown, "VERSIONS", ["another", *markdown.VERSIONS[1:]]):
        assert markdown.cache_key("text", REPO) != key


# --- What GitHub shows differently (pinned; listed in the module docstring) -------------------------------------


def test_it_flattens_lists_nested_by_two_spaces():
    assert squash(render("- a\n  - b")) == "<ul><li>a</li><li>b</li></ul>"
    assert squash(render("- a\n    - b")) == "<ul><li>a<ul><li>b</li></ul></li></ul>"


def test_it_starts_no_list_with_a_parenthesis():
    assert render("1) first\n2) second") == "<p>1) first<br>\n2) second</p>"


def test_it_shows_alerts_as_blockquotes_with_the_marker():
    assert squash(render("> [!NOTE]\n> Read this.")) == "<blockquote><p>[!NOTE]<br>\nRead this.</p></blockquote>"


def test_it_shows_footnotes_as_typed():
    assert squash(render("A claim.[^1]\n\n[^1]: The source.")) == "<p>A claim.[^1]</p><p>[^1]: The source.</p>"


def test_it_shows_math_as_typed():
    assert render("$x^2$ and $$\\sum x$$") == "<p>$x^2$ and $$\\sum x$$</p>"


def test_it_shows_mermaid_diagrams_as_code():
    html = render("```mermaid\ngraph TD; A-->B\n```")
    assert html.startswith('<div class="highlight"><pre><span></span><code>graph TD; A--&gt;B')


def test_it_does_not_strike_through_single_tildes():
    assert render("~not struck~") == "<p>~not struck~</p>"


def test_it_links_any_mention_to_github():
    html = render("Thanks @octocat")
    assert '<a href="https://github.com/octocat" title="GitHub User: octocat"' in html


def test_it_links_no_commit_hashes():
    assert render("Fixed in 3f4e2a1b9c") == "<p>Fixed in 3f4e2a1b9c</p>"


def test_it_gives_headings_no_anchors():
    assert render("## Steps") == "<h2>Steps</h2>"


def test_it_shows_emoji_shortcodes_as_unicode_except_githubs_own():
    assert render(":tada: :+1: :octocat:") == "<p>🎉 👍 :octocat:</p>"


def test_it_does_not_render_markdown_inside_other_html_blocks():
    assert render("<div>\n\n*not emphasis*\n\n</div>") == "<div>\n\n*not emphasis*\n\n</div>"
