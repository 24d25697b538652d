"""Issue and comment bodies as HTML: GitHub-flavoured Markdown, rendered as GitHub does, then sanitised.

`render_markdown()` returns HTML that is safe to mark safe: Python-Markdown (with the pymdown extensions
GitHub's dialect needs) renders the body, nh3 keeps only an allow-list of tags, attributes, classes and URL
schemes (http, https, mailto and relative links), and every link gets rel="noopener noreferrer nofollow".
static/css/markdown.css styles it inside an element of class "markdown-body" (the caller's wrapper).

Images are never loaded by our pages: the reporter's image host would learn who reads the issue, and our CSP
allows images from 'self' only. Every image becomes a plain link to it,
`<a class="md-image" href="SRC">image: ALT (click to open)</a>`, which the reader may follow to see the
image in a page of its own; no script is involved. An image inside a link becomes the label
`<span class="md-image">image: ALT</span>` (the link around it is the thing to click); markdown.css puts a
picture icon (static/img/image.svg) before either. An image whose URL is not http(s) is dropped.

`#123` and `owner/name#123` link to the issue on GitHub or, for the body's own repository, to the page that
`issue_url(123)` returns when it returns one (an issue of the current study).

What GitHub shows differently:

- List items nested under two spaces are not nested (four are needed); `1)` does not start a list (`1.` does).
- Alerts (`> [!NOTE]`) are plain blockquotes that show the marker.
- Footnotes (`[^1]`, `[^1]: text`) are shown as typed.
- Math (`$x$`, `$$…$$`) is shown as typed; ```` ```math ```` and ```` ```mermaid ```` blocks as code.
- Single tildes (`~text~`) do not strike through; double tildes do.
- `@name` links to github.com/name and `#123` to the issue whether or not they exist; commit hashes are not
  linked; GitHub URLs are not shortened to `owner/name#123`; headings get no anchors (no `id` is kept).
- Emoji shortcodes become Unicode emoji, but GitHub's own pictures (`:octocat:`) stay as typed.
- Inside raw HTML, only `<details>` holds Markdown; the content of `<div>`, `<p>`, `<table>` stays as typed.
- Code is highlighted up to 200,000 characters and 100 blocks per body; blocks past that are plain. A block
  of text that would take Python-Markdown more than seconds (a paragraph of a hundred thousand `[`, or a
  megabyte of log without a fence) is shown as typed in a plain `<pre>`; see CostGuardPreprocessor.
"""

import functools
import hashlib
import html
import re
import threading
from collections.abc import Callable
from importlib.metadata import version
from urllib.parse import urlsplit
from xml.etree import ElementTree as etree

import markdown
import nh3
from django.core.cache import cache
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.preprocessors import Preprocessor
from markdown.util import AtomicString
from pygments.token import STANDARD_TYPES
from pymdownx import emoji
from pymdownx.superfences import highlight_validator

# Part of every cache key: bump it when a change here changes the HTML of bodies already rendered.
# Library upgrades change the key by themselves.
RENDERER_VERSION = "2"  # 2: images lost the 🖼 glyph, which many fonts lack, for markdown.css's icon
CACHE_TIMEOUT = 60 * 60 * 24 * 7
VERSIONS = [RENDERER_VERSION] + [version(name) for name in ("markdown", "pymdown-extensions", "nh3", "pygments")]

GITHUB = "https://github.com"
# Code highlighted in one body, at most.
HIGHLIGHT_MAX_CHARS = 200_000
HIGHLIGHT_MAX_BLOCKS = 100
LINK_REL = "noopener noreferrer nofollow"
SURROGATE_RE = re.compile("[\ud800-\udfff]")


# --- Markdown ---------------------------------------------------------------------------------------------------

# `#123` or `owner/name#123`, not inside a word, a URL path or an HTML entity such as `&#123;`.
ISSUE_REFERENCE_RE = (
    r"(?<![\w&#/.-])(?:(?P<repository>[A-Za-z0-9][A-Za-z0-9-]{0,38}/[\w.-]{1,100}))?#(?P<number>[1-9][0-9]{0,9})(?!\w)"
)


class IssueReferenceProcessor(InlineProcessor):
    """Links an issue reference to the issue on GitHub; `in_app_issue_links()` may point it at our page later."""

    ANCESTOR_EXCLUDES = ("a",)

    def __init__(self, extension: "GithubExtension") -> None:
        super().__init__(ISSUE_REFERENCE_RE)
        self.extension = extension

    def handleMatch(self, m: re.Match, data: str) -> tuple[etree.Element | None, int | None, int | None]:  # noqa: N802
        repository, own = m["repository"], self.extension.repository
        if repository is None or (own and repository.lower() == own.lower()):
            # The body's own repository, spelt as the caller spells it, so in_app_issue_links() finds it.
            repository = own
        if repository is None:
            return None, None, None
        link = etree.Element("a", {"class": "issue-ref", "href": f"{GITHUB}/{repository}/issues/{m['number']}"})
        link.text = AtomicString(m[0])
        return link, m.start(0), m.end(0)


LIST_ITEM_RE = re.compile(r" {0,3}(?:[*+-]|1\.)[ \t]+\S")
TABLE_DELIMITER_RE = re.compile(r" {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
# A fenced code block that superfences has set aside, at the left margin (an indented one belongs to a list item).
STASHED_BLOCK_RE = re.compile(r"\x02wzxhzdk:\d+\x03[ \t]*$")
DETAILS_RE = re.compile(r"^( {0,3}<details)(?=[\s>])(?![^>]*\bmarkdown=)", re.IGNORECASE)


class GithubBlocksPreprocessor(Preprocessor):
    """Lets lists, tables and code blocks start right under a line of text, as on GitHub.

    Python-Markdown wants a blank line before them, and reports pasted from GitHub's issue templates rarely
    have one ("**System information**" followed by a list). Markdown inside `<details>` is rendered too.
    Runs after superfences has set fenced code aside, so no line of code is touched.
    """

    def run(self, lines: list[str]) -> list[str]:
        result: list[str] = []
        in_list = False
        for number, line in enumerate(lines):
            line = DETAILS_RE.sub(r'\1 markdown="1"', line)
            previous = result[-1] if result else ""
            is_item = LIST_ITEM_RE.match(line)
            starts_block = (
                STASHED_BLOCK_RE.match(line)
                or (is_item and not in_list)
                or ("|" in line and number + 1 < len(lines) and TABLE_DELIMITER_RE.match(lines[number + 1]))
            )
            if (starts_block and previous.strip()) or (STASHED_BLOCK_RE.match(previous) and line.strip()):
                result.append("")
            result.append(line)
            if is_item:
                in_list = True
            elif line.strip() and not line[0].isspace() and not previous.strip():
                in_list = False
        return result


# --- Cost guard -------------------------------------------------------------------------------------------------

# Estimated seconds of work a body may cost; beyond it, the costliest blocks are shown as plain text.
COST_LIMIT = 2.0
# Seconds per unit of each cost, measured (Python 3.12, Markdown 3.11): every inline match copies the whole
# paragraph once; each `[` and `(` is matched by walking the text in Python; html.parser searches from each
# `<` to its `>`.
SECONDS_PER_COPIED_CHAR = 3e-10
SECONDS_PER_BRACKET_STEP = 2.5e-7
SECONDS_PER_TAG_STEP = 6e-8
# html5ever (in nh3) checks every new element against all open ones: a body of nested tags is quadratic.
MAX_TAGS = 20_000

# Roughly what the inline patterns match: line ends (hard breaks), emphasis and code delimiters, links, tags,
# entities, escapes, emoji, mentions, references and bare URLs.
INLINE_MATCH_RE = re.compile(
    r"\n|[*_~`]+|!?\[|<[/!?A-Za-z]|&#?\w+;|\\[!-/:-@\[-`{-~]|:[+\w-]+:|@\w|#\d|https?://|www\."
)
BRACKET_RE = re.compile(r"[\[\]()]")
# Tags, declarations, processing instructions and CDATA sections; comments are searched for in linear time.
TAG_START_RE = re.compile(r"<(?:!\[|\?|!(?!--)|/?[A-Za-z])")


class TooCostly(Exception):
    """The body would take too long to render."""


def bracket_steps(block: str) -> int:
    """Characters Python-Markdown walks to match each `[` with its `]` and each `(` with its `)`."""
    steps = 0
    opened: list[int] = []
    for m in BRACKET_RE.finditer(block):
        if m[0] in "[(":
            opened.append(m.start())
        elif opened:
            steps += m.start() - opened.pop()
    return steps + sum(len(block) - start for start in opened)


def block_cost(block: str) -> float:
    matches = len(INLINE_MATCH_RE.findall(block))
    return matches * len(block) * SECONDS_PER_COPIED_CHAR + bracket_steps(block) * SECONDS_PER_BRACKET_STEP


def tag_steps(text: str) -> int:
    """Characters html.parser searches from each tag's `<` to the end of the tag, or of the text."""
    steps = 0
    # The next end of each kind, once found: the searches move forward only, so this is linear.
    ends: dict[str, int] = {}
    for m in TAG_START_RE.finditer(text):
        start = m.start()
        terminator = {"<![": "]]>", "<?": "?>"}.get(m[0], ">")
        end = ends.get(terminator, -1)
        if end < start:
            end = text.find(terminator, start)
            ends[terminator] = end = len(text) if end == -1 else end
        steps += end - start
    return steps


# Superfences copies the list of lines once for each code block it finds.
FENCE_RE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})", re.MULTILINE)
MAX_FENCES = 2_000
# A line that opens lists or blockquotes a hundred deep: Python-Markdown recurses, or rescans, at each level.
DEEP_NESTING_RE = re.compile(r"^[ \t]*(?:(?:[*+-]|[0-9]{1,9}[.)])[ \t]+|>[ \t]?){100}", re.MULTILINE)


class CostGuardPreprocessor(Preprocessor):
    """Keeps the rendering of hostile bodies to seconds.

    Python-Markdown, the html.parser it relies on and html5ever take quadratic time on some shapes of text:
    a paragraph of a hundred thousand `[`, unclosed `<a`, lines or emphasis would take hours. This estimates
    the cost of each block of text (fenced code, set aside already, costs nothing) and shows the costliest
    blocks as plain preformatted text until the rest fits COST_LIMIT; it gives up on bodies whose raw HTML is
    too costly (TooCostly). Realistic bodies stay below, but for paragraphs of more than about half a megabyte
    (logs pasted without a fence), which are then shown as typed.
    """

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        if (
            len(TAG_START_RE.findall(text)) > MAX_TAGS
            or tag_steps(text) * SECONDS_PER_TAG_STEP > COST_LIMIT
            or DEEP_NESTING_RE.search(text)
        ):
            raise TooCostly
        blocks = text.split("\n\n")
        costs = [block_cost(block) for block in blocks]
        total = sum(costs)
        for index in sorted(range(len(blocks)), key=costs.__getitem__, reverse=True):
            if total <= COST_LIMIT:
                break
            if "\x02" not in blocks[index]:  # a placeholder of fenced code must stay where Markdown finds it
                blocks[index] = self.md.htmlStash.store(plain_text(blocks[index]))
                total -= costs[index]
        return "\n\n".join(blocks).split("\n")


def plain_text(text: str) -> str:
    return f'<pre class="md-plain">{html.escape(text)}</pre>'


class CodeHighlighter:
    """Superfences' own highlighting, within limits, past which code is shown as plain text.

    Pygments takes seconds over a megabyte of code (and wraps every token in a span, for a page several times
    heavier), and half a millisecond to set up for each block (a body of a hundred thousand tiny fences).
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.chars_left = HIGHLIGHT_MAX_CHARS
        self.blocks_left = HIGHLIGHT_MAX_BLOCKS

    def __call__(self, src: str, language: str, class_name: str, options: dict, md: markdown.Markdown, **kwargs):
        self.blocks_left -= 1
        if len(src) > self.chars_left or self.blocks_left < 0:
            return f'<div class="highlight"><pre><code>{html.escape(src)}</code></pre></div>'
        self.chars_left -= len(src)
        fences = md.preprocessors["fenced_code_block"]
        return fences.highlight(src=src, language=language, options=options, md=md, **kwargs)


class GithubExtension(Extension):
    """Our additions. Holds what varies from body to body: its repository, and the highlighting limits."""

    def __init__(self, highlighter: CodeHighlighter) -> None:
        super().__init__()
        self.highlighter = highlighter
        self.repository: str | None = None

    def reset(self) -> None:
        """Called by `Markdown.reset()`, between bodies."""
        self.highlighter.reset()
        self.repository = None

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802
        md.registerExtension(self)
        # Between superfences (25) and the raw HTML blocks (20).
        md.preprocessors.register(GithubBlocksPreprocessor(md), "github_blocks", 24)
        md.preprocessors.register(CostGuardPreprocessor(md), "cost_guard", 23)
        # After the autolinks and mentions of magiclink, whose link text it must not touch.
        md.inlinePatterns.register(IssueReferenceProcessor(self), "issue_reference", 75)


@functools.cache
def gemoji_index() -> dict:
    """GitHub's emoji names, read once: pymdownx copies its index for each Markdown instance (3 ms), and only
    reads it."""
    return emoji.gemoji({}, None)


# One Markdown instance per thread, reset between bodies: building one costs a fifth of rendering a typical body,
# and instances are not thread-safe.
_per_thread = threading.local()


def markdown_to_html(text: str, repository: str | None) -> str:
    """The body as HTML, not yet sanitised."""
    if len(FENCE_RE.findall(text)) > MAX_FENCES:
        raise TooCostly
    if not hasattr(_per_thread, "markdown"):
        _per_thread.markdown, _per_thread.github = new_markdown()
    md, github = _per_thread.markdown, _per_thread.github
    md.reset()
    github.repository = repository
    try:
        return md.convert(text)
    except BaseException:
        # A body given up on half-way (TooCostly, RecursionError) may leave state no reset() knows of.
        del _per_thread.markdown
        raise


def new_markdown() -> tuple[markdown.Markdown, GithubExtension]:
    highlighter = CodeHighlighter()
    github = GithubExtension(highlighter)
    md = markdown.Markdown(
        extensions=[
            "md_in_html",
            "nl2br",
            "sane_lists",
            "tables",
            "pymdownx.emoji",
            "pymdownx.highlight",
            "pymdownx.magiclink",
            "pymdownx.saneheaders",
            "pymdownx.superfences",
            "pymdownx.tasklist",
            "pymdownx.tilde",
            github,
        ],
        extension_configs={
            # Classes, not inline styles: the CSP forbids style attributes.
            "pymdownx.highlight": {"use_pygments": True, "noclasses": False, "guess_lang": False},
            "pymdownx.emoji": {"emoji_index": lambda options, md: gemoji_index(), "emoji_generator": emoji.to_alt},
            "pymdownx.magiclink": {"social_url_shorthand": True},
            "pymdownx.superfences": {
                "custom_fences": [
                    {"name": "*", "class": "highlight", "format": highlighter, "validator": highlight_validator}
                ]
            },
            "pymdownx.tasklist": {"clickable_checkbox": False},
            "pymdownx.tilde": {"subscript": False},
            "tables": {"use_align_attribute": True},
        },
        output_format="html",
    )
    return md, github


# --- Sanitising -------------------------------------------------------------------------------------------------

ALLOWED_TAGS = {
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
    "img",
    "input",
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
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "details": {"open"},
    "img": {"src", "alt", "title"},
    "input": {"checked", "disabled"},
    "ol": {"start"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan"},
}
# Only the classes our stylesheet gives a meaning to: a body must not borrow the page's own classes.
ALLOWED_CLASSES = {
    "a": {"issue-ref"},
    "div": {"highlight"},
    "li": {"task-list-item"},
    "pre": {"md-plain"},
    "span": {name for name in STANDARD_TYPES.values() if name} | {"hll"},
    "ul": {"task-list"},
}
# Removed with everything inside them (other tags outside the allow-list are removed, their text kept).
REMOVED_WITH_CONTENT = {
    "applet",
    "embed",
    "frame",
    "frameset",
    "iframe",
    "math",
    "noembed",
    "noscript",
    "object",
    "script",
    "select",
    "style",
    "svg",
    "template",
    "textarea",
    "title",
    "xmp",
}

CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags=REMOVED_WITH_CONTENT,
    attributes=ALLOWED_ATTRIBUTES,
    # The task list's checkboxes; other inputs lose their type here and are removed by defer_images().
    tag_attribute_values={"input": {"type": {"checkbox"}}},
    allowed_classes=ALLOWED_CLASSES,
    url_schemes={"http", "https", "mailto"},
    link_rel=LINK_REL,
    strip_comments=True,
)

# The tags defer_images() rewrites, in nh3's output: attribute values are always double-quoted there, with
# any `"` in them escaped, so a `>` inside a value cannot end the tag early.
TAG_RE = re.compile(r'<(?P<end>/?)(?P<name>a|img|input)(?P<attributes>(?:\s+[^\s"/=>]+(?:="[^"]*")?)*)\s*/?>')
ATTRIBUTE_RE = re.compile(r'([^\s"/=>]+)(?:="([^"]*)")?')
# What nh3 leaves of a class attribute none of whose classes is allowed.
EMPTY_CLASS_RE = re.compile(r'(<[a-z][a-z0-9]*(?:\s+[^\s"/=>]+(?:="[^"]*")?)*?)\s+class=""')


# Any tag of nh3's output (or a tag cut off at the end of a cut text); a block's edges are a space in its text.
ANY_TAG_RE = re.compile(r'<(?P<end>/?)(?P<name>[a-z][a-z0-9]*)(?:\s+[^\s"/=>]+(?:="[^"]*")?)*\s*/?>|<[^>]*\Z')
BLOCKS = {"p", "div", "br", "hr", "li", "ul", "ol", "pre", "blockquote", "table", "tr", "td", "th", "dd", "dt"}
BLOCKS |= {f"h{level}" for level in range(1, 7)}


def text_of(sanitised: str) -> str:
    """The text of sanitised HTML as a reader sees it: no tags, no entities, no Markdown syntax (for snippets)."""
    text = ANY_TAG_RE.sub(lambda m: " " if m["name"] in BLOCKS else "", sanitised)
    return " ".join(html.unescape(text).split())


def defer_images(sanitised: str) -> str:
    """Replaces each image of sanitised HTML by a link to it, removes inputs that are not checkboxes, and
    empty class attributes."""
    inside_link = False

    def replace(m: re.Match) -> str:
        nonlocal inside_link
        name = m["name"]
        if name == "a":
            inside_link = not m["end"]
            return m[0]
        attributes = {key: html.unescape(value or "") for key, value in ATTRIBUTE_RE.findall(m["attributes"])}
        if name == "input":
            if attributes.get("type") != "checkbox":
                return ""
            checked = " checked" if "checked" in attributes else ""
            return f'<input type="checkbox" disabled{checked}>'
        src = attributes.get("src", "")
        if urlsplit(src).scheme.lower() not in {"http", "https"}:
            return ""
        description = attributes.get("alt") or urlsplit(src).path.rsplit("/", 1)[-1] or "no description"
        if inside_link:
            return f'<span class="md-image">image: {html.escape(description)}</span>'
        return (
            f'<a class="md-image" href="{html.escape(src)}" rel="{LINK_REL}">'
            f"image: {html.escape(description)} (click to open)</a>"
        )

    return EMPTY_CLASS_RE.sub(r"\1", TAG_RE.sub(replace, sanitised))


def in_app_issue_links(rendered: str, repository: str | None, issue_url: Callable[[int], str | None]) -> str:
    """Points the links of `#123` references to issues of the study at our own pages."""
    if not repository:
        return rendered
    pattern = re.compile(rf'<a class="issue-ref" href="{re.escape(f"{GITHUB}/{repository}/issues/")}(\d+)"')
    urls: dict[int, str | None] = {}

    def replace(m: re.Match) -> str:
        number = int(m[1])
        if number not in urls:
            urls[number] = issue_url(number)
        url = urls[number]
        return m[0] if url is None else f'<a class="issue-ref" href="{html.escape(url)}"'

    return pattern.sub(replace, rendered)


# --- Entry points -----------------------------------------------------------------------------------------------


def render_markdown(
    text: str, *, repository: str | None = None, issue_url: Callable[[int], str | None] | None = None
) -> str:
    """Sanitised HTML of a GitHub Markdown body. `repository` ("owner/name") is where `#123` points;
    `issue_url(number)` returns our page of an issue of the current study, or None to link to GitHub."""
    # Lone surrogates (which no encoder accepts) cannot come from the database, but may from elsewhere.
    text = SURROGATE_RE.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n"))
    try:
        rendered = defer_images(CLEANER.clean(markdown_to_html(text, repository)))
    except (TooCostly, RecursionError):
        # Escaped and never parsed: inert by construction. RecursionError: lists nested thousands deep.
        rendered = plain_text(text)
    return in_app_issue_links(rendered, repository, issue_url) if issue_url else rendered


def render_all(texts: list[tuple[str, str | None]]) -> list[str]:
    """`render_markdown()` of each (text, repository); in a process of a pool (issues/rendering.py) too."""
    return [render_markdown(text, repository=repository) for text, repository in texts]


def cache_key(text: str, repository: str | None) -> str:
    """A digest of everything the HTML depends on: an edited body, or a new library, renders anew."""
    digest = hashlib.sha256()
    for part in [*VERSIONS, repository or ""]:
        digest.update(part.encode() + b"\0")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def render_markdown_cached(text: str, *, repository: str | None) -> str:
    """`render_markdown()` through Django's cache (per process), keyed on `cache_key()`.

    For definitions, guidelines and the rare whole huge body; issue bodies and comments are
    stored on their rows instead (issues/rendering.py). Links of `#123` references point at
    GitHub: `in_app_issue_links()` turns those of a study's issues into links to our pages.
    """
    key = f"markdown:{cache_key(text, repository)}"
    rendered = cache.get(key)
    if rendered is None:
        rendered = render_markdown(text, repository=repository)
        cache.set(key, rendered, CACHE_TIMEOUT)
    return rendered
