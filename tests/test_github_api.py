"""The live GitHub REST API client, against a local fake of GitHub that replays recorded exchanges."""

import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from issues.importers.github_api import GitHubAPIError, GitHubClient, fetch_issues, wait_with_countdown
from tests.fake_github import fake_github  # noqa: F401
from tests.helpers import DATA, SHARED

# deepflow/deepflow's open issues, 3 a page: 4 pages with Link and rate-limit headers (tests/data/README.md).
RECORDING = DATA / "github-api/paginate-issues.json"
OWNER, REPO = "deepflow", "deepflow"
NOW = 1_700_000_000.0


class FakeTime:
    """A clock and a sleep that only pretend: waits are recorded, and the clock moves on by them."""

    def __init__(self) -> None:
        self.now = NOW
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time():
    return FakeTime()


@pytest.fixture
def waits():
    """What on_wait announced, as (seconds, reason)."""
    return []


@pytest.fixture
def client(fake_github, fake_time, waits):  # noqa: F811
    with GitHubClient(
        base_url=fake_github.base_url,
        token="secret-token",
        on_wait=lambda seconds, reason: waits.append((seconds, reason)),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    ) as client:
        yield client


def recorded_numbers(recording=RECORDING) -> list[int]:
    return [issue["number"] for exchange in json.loads(recording.read_text()) for issue in exchange["response"]]


def recorded_paths(recording=RECORDING) -> list[str]:
    return [exchange["path"] for exchange in json.loads(recording.read_text())]


def fetch_recorded(client, owner=OWNER, repo=REPO, **kwargs):
    # The recording asked for GitHub's default state, so no `state` parameter is sent.
    return fetch_issues(client, owner, repo, state="open", per_page=3, with_comments=False, **kwargs)


def issue(number: int, comments: int = 0) -> dict:
    return {"number": number, "title": f"Issue {number}", "comments": comments}


# --- Pagination ---


def test_it_yields_every_issue_of_every_recorded_page_in_order(client, fake_github):  # noqa: F811
    fake_github.load_recording(RECORDING)

    issues = list(fetch_recorded(client))

    newest_first = [20488, 20471, 20466, 20452, 20431, 20419, 20417, 20390, 20388, 20361, 20344]
    assert [issue["number"] for issue in issues] == recorded_numbers() == newest_first


def test_it_follows_the_next_links_and_makes_no_other_request(client, fake_github):  # noqa: F811
    fake_github.load_recording(RECORDING)

    list(fetch_recorded(client))

    assert [request.path for request in fake_github.requests] == recorded_paths()
    assert len(fake_github.requests) == 4


def test_it_sends_the_token_and_the_api_version_with_every_request(client, fake_github):  # noqa: F811
    fake_github.load_recording(RECORDING)

    list(fetch_recorded(client))

    for request in fake_github.requests:
        assert request.headers["Authorization"] == "Bearer secret-token"
        assert request.headers["Accept"] == "application/vnd.github+json"
        assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
        assert request.headers["User-Agent"] == "annotator"


def test_it_sends_no_authorization_without_a_token(fake_github):  # noqa: F811
    fake_github.load_recording(RECORDING)

    with GitHubClient(base_url=fake_github.base_url) as anonymous:
        list(fetch_recorded(anonymous))

    assert all("Authorization" not in request.headers for request in fake_github.requests)


def test_it_reports_each_next_page_url_once_the_page_is_done(client, fake_github):  # noqa: F811
    fake_github.load_recording(RECORDING)
    events = []

    for issue_ in fetch_recorded(client, on_page=lambda url: events.append(("page", url))):
        events.append(("issue", issue_["number"]))

    page = f"{fake_github.base_url}/repositories/48213904/issues?per_page=3&page="
    assert events == [
        *[("issue", n) for n in (20488, 20471, 20466)],
        ("page", page + "2"),
        *[("issue", n) for n in (20452, 20431, 20419)],
        ("page", page + "3"),
        *[("issue", n) for n in (20417, 20390, 20388)],
        ("page", page + "4"),
        *[("issue", n) for n in (20361, 20344)],
        ("page", None),
    ]


def test_it_resumes_from_a_saved_next_page_url(client, fake_github):  # noqa: F811
    fake_github.load_recording(RECORDING)
    third_page = f"{fake_github.base_url}/repositories/48213904/issues?per_page=3&page=3"

    issues = list(fetch_recorded(client, start_url=third_page))

    assert [issue["number"] for issue in issues] == recorded_numbers()[6:]
    assert fake_github.requests[0].path == "/repositories/48213904/issues?per_page=3&page=3"


@pytest.mark.shared
def test_it_follows_octokits_recorded_pagination_in_shared(client, fake_github):  # noqa: F811
    recording = SHARED / "data/github-api-recordings/paginate-issues.json"
    fake_github.load_recording(recording)

    issues = list(fetch_recorded(client, "octokit-fixture-org", "paginate-issues"))

    assert [issue["number"] for issue in issues] == recorded_numbers(recording) == list(range(13, 0, -1))
    assert [request.path for request in fake_github.requests] == recorded_paths(recording)


def test_it_asks_for_all_states_the_labels_and_since_100_per_page(client, fake_github):  # noqa: F811
    query = "state=all&labels=bug,help wanted&since=2024-01-01T00:00:00Z&per_page=100"
    fake_github.add("GET", f"/repos/o/r/issues?{query}", json=[issue(1)])

    issues = list(fetch_issues(client, "o", "r", labels=["bug", "help wanted"], since="2024-01-01T00:00:00Z"))

    assert [issue["number"] for issue in issues] == [1]
    [request] = fake_github.requests
    assert parse_qs(urlsplit(request.path).query) == {
        "state": ["all"],
        "labels": ["bug,help wanted"],
        "since": ["2024-01-01T00:00:00Z"],
        "per_page": ["100"],
    }


def test_it_works_with_a_github_enterprise_api_root(fake_github):  # noqa: F811
    fake_github.load_recording(RECORDING, prefix="/api/v3")

    with GitHubClient(base_url=f"{fake_github.base_url}/api/v3/", token="secret-token") as enterprise:
        issues = list(fetch_recorded(enterprise))

    assert [issue["number"] for issue in issues] == recorded_numbers()
    assert [request.path for request in fake_github.requests] == ["/api/v3" + path for path in recorded_paths()]


def test_it_follows_githubs_redirect_for_a_renamed_repository(client, fake_github):  # noqa: F811
    moved = f"{fake_github.base_url}/repositories/7/issues?state=all&per_page=100"
    fake_github.add("GET", "/repos/o/old-name/issues?state=all&per_page=100", 301, headers={"Location": moved})
    fake_github.add("GET", "/repositories/7/issues?state=all&per_page=100", json=[issue(1)])

    issues = list(fetch_issues(client, "o", "old-name"))

    assert [issue["number"] for issue in issues] == [1]
    assert fake_github.requests[-1].headers["Authorization"] == "Bearer secret-token"


# --- Comments ---


def test_it_adds_all_pages_of_an_issues_comments(client, fake_github):  # noqa: F811
    fake_github.add("GET", "/repos/o/r/issues?state=all&per_page=100", json=[issue(1, comments=3)])
    next_page = f"{fake_github.base_url}/repositories/9/issues/1/comments?per_page=100&page=2"
    fake_github.add(
        "GET",
        "/repos/o/r/issues/1/comments?per_page=100",
        json=[{"id": 11, "body": "first"}, {"id": 12, "body": "second"}],
        headers={"Link": f'<{next_page}>; rel="next", <{next_page}>; rel="last"'},
    )
    fake_github.add("GET", "/repositories/9/issues/1/comments?per_page=100&page=2", json=[{"id": 13, "body": "third"}])

    [only] = fetch_issues(client, "o", "r")

    assert [comment["body"] for comment in only["comment_data"]] == ["first", "second", "third"]


def test_it_asks_for_no_comments_of_an_issue_that_has_none(client, fake_github):  # noqa: F811
    fake_github.add("GET", "/repos/o/r/issues?state=all&per_page=100", json=[issue(2, comments=0)])

    [only] = fetch_issues(client, "o", "r")

    assert only["comment_data"] == []
    assert len(fake_github.requests) == 1


def test_it_asks_for_no_comments_of_pull_requests(client, fake_github):  # noqa: F811
    pull_request = {**issue(3, comments=5), "pull_request": {"url": "https://api.github.com/repos/o/r/pulls/3"}}
    fake_github.add("GET", "/repos/o/r/issues?state=all&per_page=100", json=[pull_request])

    [only] = fetch_issues(client, "o", "r")

    assert only == pull_request
    assert len(fake_github.requests) == 1


# --- Rate limits ---


def test_it_waits_for_the_primary_rate_limit_to_reset_then_retries(client, fake_github, fake_time, waits):  # noqa: F811
    reset = int(NOW) + 90
    limited = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    fake_github.add("GET", "/repos/o/r/issues?per_page=100", 403, {"message": "API rate limit exceeded"}, limited)
    fake_github.add("GET", "/repos/o/r/issues?per_page=100", json=[issue(1)])

    pages = list(client.get_pages("/repos/o/r/issues", {"per_page": 100}))

    assert pages == [([issue(1)], None)]
    assert waits == [(91.0, "GitHub rate limit reached")]
    assert fake_time.sleeps == [91.0]


def test_it_waits_before_the_next_request_when_the_last_one_used_up_the_limit(client, fake_github):  # noqa: F811
    next_page = f"{fake_github.base_url}/repos/o/r/issues?page=2"
    last_one = {
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(NOW) + 30),
        "Link": f'<{next_page}>; rel="next"',
    }
    fake_github.add("GET", "/repos/o/r/issues", json=[issue(1)], headers=last_one)
    fake_github.add("GET", "/repos/o/r/issues?page=2", json=[issue(2)])
    requests_made_before_sleeping = []
    client.sleep = lambda seconds: requests_made_before_sleeping.append((len(fake_github.requests), seconds))

    pages = list(client.get_pages("/repos/o/r/issues"))

    assert [data for data, _ in pages] == [[issue(1)], [issue(2)]]
    assert requests_made_before_sleeping == [(1, 31.0)]


def test_it_waits_as_long_as_retry_after_says(client, fake_github, fake_time):  # noqa: F811
    fake_github.add("GET", "/repos/o/r/issues", 429, {"message": "Too many requests"}, {"Retry-After": "7"})
    fake_github.add("GET", "/repos/o/r/issues", json=[])

    list(client.get_pages("/repos/o/r/issues"))

    assert fake_time.sleeps == [7.0]


def test_it_waits_a_minute_for_a_secondary_rate_limit_without_retry_after(client, fake_github, fake_time, waits):  # noqa: F811
    message = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}
    fake_github.add("GET", "/repos/o/r/issues", 403, message)
    fake_github.add("GET", "/repos/o/r/issues", json=[])

    list(client.get_pages("/repos/o/r/issues"))

    assert fake_time.sleeps == [60.0]
    assert waits == [(60.0, "GitHub secondary rate limit reached")]


def test_it_waits_longer_each_time_the_secondary_rate_limit_persists(client, fake_github, fake_time):  # noqa: F811
    message = {"message": "You have exceeded a secondary rate limit."}
    for _ in range(3):
        fake_github.add("GET", "/repos/o/r/issues", 403, message)
    fake_github.add("GET", "/repos/o/r/issues", json=[])

    list(client.get_pages("/repos/o/r/issues"))

    assert fake_time.sleeps == [60.0, 120.0, 240.0]


# --- Failures ---


def test_it_retries_a_bad_gateway_after_a_second(client, fake_github, fake_time, waits):  # noqa: F811
    fake_github.add("GET", "/repos/o/r/issues", 502, {"message": "Server Error"})
    fake_github.add("GET", "/repos/o/r/issues", json=[issue(1)])

    pages = list(client.get_pages("/repos/o/r/issues"))

    assert pages == [([issue(1)], None)]
    assert fake_time.sleeps == [1.0]
    assert waits == [(1.0, "GitHub answered 502 Server Error; retry 1 of 5")]


def test_it_gives_up_after_max_retries_naming_the_url_and_the_error(client, fake_github, fake_time):  # noqa: F811
    fake_github.add("GET", "/repos/o/r/issues?per_page=100", 503, {"message": "Service Unavailable"})

    with pytest.raises(GitHubAPIError) as error:
        list(client.get_pages("/repos/o/r/issues", {"per_page": 100}))

    assert str(error.value) == (
        f"GitHub request failed 6 times: GET {fake_github.base_url}/repos/o/r/issues?per_page=100; "
        "last error: GitHub answered 503 Service Unavailable"
    )
    assert fake_time.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert len(fake_github.requests) == 6


def test_it_retries_when_github_cannot_be_reached(fake_time):
    closed_port = "http://127.0.0.1:1"
    unreachable = GitHubClient(base_url=closed_port, sleep=fake_time.sleep, max_retries=2)

    with pytest.raises(GitHubAPIError) as error:
        list(unreachable.get_pages("/repos/o/r/issues"))

    assert str(error.value).startswith(f"GitHub request failed 3 times: GET {closed_port}/repos/o/r/issues;")
    assert "could not reach GitHub" in str(error.value)
    assert fake_time.sleeps == [1.0, 2.0]


def test_it_explains_a_missing_repository_without_retrying(client, fake_github, fake_time):  # noqa: F811
    with pytest.raises(GitHubAPIError) as error:
        list(fetch_issues(client, "o", "no-such-repo"))

    assert str(error.value) == (
        "GitHub says 404 Not Found for /repos/o/no-such-repo/issues: "
        "check the repository name (and the token's access to it)"
    )
    assert len(fake_github.requests) == 1
    assert fake_time.sleeps == []


def test_it_points_at_the_token_when_github_rejects_it(client, fake_github):  # noqa: F811
    fake_github.add("GET", "/repos/o/r/issues?state=all&per_page=100", 401, {"message": "Bad credentials"})

    with pytest.raises(GitHubAPIError) as error:
        list(fetch_issues(client, "o", "r"))

    assert (
        str(error.value) == "GitHub says 401 Bad credentials for /repos/o/r/issues: check the token in $GITHUB_TOKEN"
    )


# --- The countdown the command line shows ---


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_it_says_once_how_long_it_waits_when_not_on_a_terminal():
    stream, sleeps = io.StringIO(), []

    wait_with_countdown(179, "GitHub rate limit reached", sleep=sleeps.append, stream=stream)

    assert re.fullmatch(r"GitHub rate limit reached: waiting 2:59 \(until \d\d:\d\d:\d\d UTC\)…\n", stream.getvalue())
    assert sleeps == [179]


def test_it_counts_down_every_second_on_a_terminal():
    terminal, sleeps = Terminal(), []

    wait_with_countdown(2.5, "GitHub rate limit reached", sleep=sleeps.append, stream=terminal)

    shown = re.findall(r"\r\x1b\[KGitHub rate limit reached: waiting (\d:\d\d) \(until", terminal.getvalue())
    assert shown == ["0:03", "0:02", "0:01"]
    assert sleeps == [0.5, 1.0, 1.0]
