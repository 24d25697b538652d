"""A small client for GitHub's REST API, for importing issues live: pagination, rate limits and retries.

GitHub's advice on rate limits is followed as written in "Best practices for using the REST API": wait for
`Retry-After` when it is given, until `X-RateLimit-Reset` when the primary limit is used up, at least a minute
(then longer each time) for a secondary limit without either, and back off exponentially on server errors.
"""

import json
import math
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO
from urllib.parse import quote, urlencode, urlsplit

import urllib3

API_VERSION = "2022-11-28"
# Worth another try: a proxy or GitHub itself had a bad moment.
TRANSIENT_STATUSES = {500, 502, 503, 504}
RATE_LIMIT_STATUSES = {403, 429}
SECONDARY_LIMIT_WAIT = 60.0
LINK = re.compile(r'<([^>]*)>\s*;\s*rel="([^"]*)"')


class GitHubAPIError(Exception):
    """GitHub refused a request, or kept failing; the message says what happened and what to check."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # GitHub's refusal (404: no such issue any more), None when it kept failing


class GitHubClient:
    """GET requests to GitHub's REST API that wait out rate limits and retry transient failures.

    Every wait is announced through on_wait(seconds, reason) and then spent in sleep(seconds); a caller that
    does its own waiting in on_wait (like wait_with_countdown) passes a sleep that does nothing.
    """

    def __init__(
        self,
        *,
        base_url: str = "https://api.github.com",
        token: str | None = None,
        on_wait: Callable[[float, str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_retries: int = 5,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.on_wait = on_wait
        self.sleep = sleep
        self.clock = clock
        self.max_retries = max_retries
        self.headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "annotator",
        }
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        # Retries are ours (they must be announced and follow GitHub's rules); urllib3 only follows redirects,
        # which GitHub sends for renamed and transferred repositories.
        retries = urllib3.Retry(total=None, connect=0, read=0, other=0, status=0, redirect=5)
        self.http = urllib3.PoolManager(retries=retries, timeout=timeout)
        # Set when a response said the primary limit is used up: the next request waits until then.
        self.reset_at: float | None = None

    def close(self) -> None:
        self.http.clear()

    def __enter__(self) -> "GitHubClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def url(self, path_or_url: str, params: dict | None = None) -> str:
        """An absolute URL: paths are appended to base_url (which may have a prefix like /api/v3)."""
        url = path_or_url if "://" in path_or_url else f"{self.base_url}/{path_or_url.lstrip('/')}"
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        return url

    def get_pages(self, path_or_url: str, params: dict | None = None) -> Iterator[tuple[Any, str | None]]:
        """Yields (decoded JSON of one page, URL of the next page or None), following Link rel="next"."""
        url: str | None = self.url(path_or_url, params)
        while url:
            response = self.get(url)
            try:
                data = json.loads(response.data)
            except ValueError:
                raise GitHubAPIError(f"GitHub sent something that is not JSON for {url}") from None
            url = next_link(response.headers.get("Link", ""))
            yield data, url

    def get(self, url: str) -> urllib3.BaseHTTPResponse:
        """The successful response to GET url, after any waits and retries it took."""
        for attempt in range(self.max_retries + 1):
            self.wait_for_reset()
            try:
                response = self.http.request("GET", url, headers=self.headers)
            except urllib3.exceptions.HTTPError as error:  # refused connections, timeouts, broken responses
                problem = f"could not reach GitHub ({describe(error)})"
                delay, reason = 2.0**attempt, f"{problem}; retry {attempt + 1} of {self.max_retries}"
            else:
                if 200 <= response.status < 300:
                    self.note_rate_limit(response)
                    return response
                message = error_message(response)
                if response.status in TRANSIENT_STATUSES:
                    problem = f"GitHub answered {response.status} {message}"
                    delay, reason = 2.0**attempt, f"{problem}; retry {attempt + 1} of {self.max_retries}"
                elif response.status in RATE_LIMIT_STATUSES and is_rate_limited(response, message):
                    problem, delay = self.rate_limit_wait(response, attempt)
                    reason = problem
                else:
                    refused = refusal(response.status, message, url, "Authorization" in self.headers)
                    raise GitHubAPIError(refused, status=response.status)
            if attempt == self.max_retries:
                raise GitHubAPIError(f"GitHub request failed {attempt + 1} times: GET {url}; last error: {problem}")
            self.wait(delay, reason)
        raise AssertionError("unreachable")  # the loop returns or raises

    def rate_limit_wait(self, response: urllib3.BaseHTTPResponse, attempt: int) -> tuple[str, float]:
        retry_after = number(response.headers.get("Retry-After"))
        if retry_after is not None:
            return "GitHub secondary rate limit reached", retry_after
        reset = number(response.headers.get("X-RateLimit-Reset"))
        if response.headers.get("X-RateLimit-Remaining") == "0" and reset is not None:
            # One second more: GitHub's reset time is rounded down, and clocks differ a little.
            return "GitHub rate limit reached", max(reset - self.clock(), 0) + 1
        return "GitHub secondary rate limit reached", SECONDARY_LIMIT_WAIT * 2**attempt

    def note_rate_limit(self, response: urllib3.BaseHTTPResponse) -> None:
        reset = number(response.headers.get("X-RateLimit-Reset"))
        if response.headers.get("X-RateLimit-Remaining") == "0" and reset is not None:
            self.reset_at = reset

    def wait_for_reset(self) -> None:
        if self.reset_at is None:
            return
        seconds = self.reset_at - self.clock() + 1
        self.reset_at = None
        if seconds > 0:
            self.wait(seconds, "GitHub rate limit reached")

    def wait(self, seconds: float, reason: str) -> None:
        if self.on_wait:
            self.on_wait(seconds, reason)
        self.sleep(seconds)


def fetch_issues(
    client: GitHubClient,
    owner: str,
    repo: str,
    *,
    state: str = "all",
    labels: Sequence[str] = (),
    since: str | None = None,
    per_page: int = 100,
    start_url: str | None = None,
    with_comments: bool = True,
    on_page: Callable[[str | None], None] | None = None,
) -> Iterator[dict]:
    """Yields REST issue objects exactly as GitHub returned them (pull requests included; the importer skips them).

    With with_comments, every issue gets "comment_data": the list of its REST comment objects, fetched only
    when its "comments" count is > 0 (so [] without a request otherwise). Pull requests get none: their
    comments would cost requests for objects the importer skips.
    `labels` are sent as GitHub's comma-separated `labels` parameter (GitHub ANDs them); `since` as `since`;
    `state` only when it is not GitHub's default, "open".
    on_page(next_url) is called after every issue of a page has been yielded, so a caller can save next_url
    and later resume an interrupted run by passing it back as start_url (then the first request is start_url).
    """
    if start_url:
        pages = client.get_pages(start_url)
    else:
        params: dict[str, str | int] = {}
        if state != "open":
            params["state"] = state
        if labels:
            params["labels"] = ",".join(labels)
        if since:
            params["since"] = since
        params["per_page"] = per_page
        pages = client.get_pages(f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}/issues", params)
    for issues, next_url in pages:
        for issue in issues:
            if with_comments and "pull_request" not in issue:
                issue["comment_data"] = fetch_comments(client, owner, repo, issue) if issue.get("comments") else []
            yield issue
        if on_page:
            on_page(next_url)


def fetch_comments(client: GitHubClient, owner: str, repo: str, issue: dict) -> list[dict]:
    path = f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}/issues/{issue['number']}/comments"
    return [comment for page, _ in client.get_pages(path, {"per_page": 100}) for comment in page]


def wait_with_countdown(seconds: float, reason: str, *, sleep=time.sleep, stream: TextIO = sys.stderr) -> None:
    """Waits, saying why and until when: on a TTY, one line rewritten every second:
    'GitHub rate limit reached: waiting 2:59 (until 16:03:12 UTC)…'; otherwise one plain line before waiting."""
    seconds = max(seconds, 0.0)
    until = (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%H:%M:%S UTC")
    if not stream.isatty():
        stream.write(f"{reason}: waiting {duration(seconds)} (until {until})…\n")
        stream.flush()
        sleep(seconds)
        return
    left = math.ceil(seconds)
    step = seconds - (left - 1)  # the fraction first, so that the countdown then ticks on whole seconds
    while left > 0:
        # \r and "erase to end of line" rewrite the line in place.
        stream.write(f"\r\x1b[K{reason}: waiting {duration(left)} (until {until})…")
        stream.flush()
        sleep(step)
        left -= 1
        step = 1.0
    stream.write("\r\x1b[K")
    stream.flush()


def next_link(header: str) -> str | None:
    """The rel="next" URL of a Link header, or None on the last page."""
    for url, rel in LINK.findall(header):
        if "next" in rel.split():
            return url
    return None


def duration(seconds: float) -> str:
    """2:59, or 1:02:03 past an hour."""
    minutes, secs = divmod(math.ceil(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def error_message(response: urllib3.BaseHTTPResponse) -> str:
    """GitHub's own explanation ("Bad credentials"), or the HTTP reason when the body has none."""
    try:
        message = json.loads(response.data).get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message or response.reason or "").strip()


def is_rate_limited(response: urllib3.BaseHTTPResponse, message: str) -> bool:
    # A plain 403 is a permission problem; GitHub marks a limit by these headers or by saying so.
    return (
        response.status == 429
        or response.headers.get("X-RateLimit-Remaining") == "0"
        or "Retry-After" in response.headers
        or "rate limit" in message.lower()
    )


def refusal(status: int, message: str, url: str, has_token: bool) -> str:
    path = urlsplit(url).path
    if status == 401:
        hint = "check the token in $GITHUB_TOKEN"
    elif status == 404 and has_token:
        hint = "check the repository name (and the token's access to it)"
    elif status == 404:
        hint = "check the repository name (a private repository needs a token in $GITHUB_TOKEN)"
    elif status == 403:
        hint = "check the token's permissions"
    else:
        hint = f"the request was GET {url}"
    return f"GitHub says {status} {message} for {path}: {hint}"


def describe(error: Exception) -> str:
    # urllib3 wraps the real cause (refused, timed out, reset) in MaxRetryError.
    reason = getattr(error, "reason", None)
    return str(reason or error)
