"""A local stand-in for GitHub's REST API, for tests of code that talks to it.

It answers with responses that tests script with `.add()` or replay from recorded exchanges with
`.load_recording()`, and keeps every request it received in `.requests`. Use the `fake_github` fixture:

    from tests.fake_github import fake_github  # noqa: F401

    def test_something(fake_github):
        fake_github.add("GET", "/repos/o/r/issues?per_page=100", json=[...], headers={"Link": "..."})
        client = GitHubClient(base_url=fake_github.base_url)
"""

import json
import threading
from collections.abc import Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

import pytest

RECORDED_HOST = "https://api.github.com"
# Hop-by-hop and length headers describe the recorded connection and body, not ours.
NOT_REPLAYED = {"connection", "content-length", "transfer-encoding", "content-encoding"}


class Response(NamedTuple):
    status: int
    json: Any
    headers: dict[str, str]


class Request(NamedTuple):
    method: str
    path: str  # with the query string, as received
    headers: Message  # case-insensitive: request.headers["authorization"]


class FakeGitHub:
    """An HTTP server on 127.0.0.1 in a background thread; use it as a context manager."""

    def __init__(self) -> None:
        self.responses: dict[tuple, list[Response]] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.fake = self  # type: ignore[attr-defined]
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01})

    def __enter__(self) -> "FakeGitHub":
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def add(
        self, method: str, path: str, status: int = 200, json: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        """Answer `method path` (query included, in any order) so; repeated calls for the same request queue
        their responses in order, and the last one is repeated from then on."""
        response = Response(status, json, {name: str(value) for name, value in (headers or {}).items()})
        with self.lock:
            self.responses.setdefault(key(method, path), []).append(response)

    def load_recording(self, path: Path | str, prefix: str = "") -> None:
        """Replay recorded exchanges (octokit/fixtures' format). With a prefix such as "/api/v3" they are served
        under it, and links to api.github.com point to it, as on a GitHub Enterprise server."""
        root = self.base_url + prefix
        for exchange in json.loads(Path(path).read_text(encoding="utf-8")):
            headers = {
                name: str(value).replace(RECORDED_HOST, root)
                for name, value in exchange["headers"].items()
                if name.lower() not in NOT_REPLAYED
            }
            self.add(exchange["method"], prefix + exchange["path"], exchange["status"], exchange["response"], headers)

    def answer(self, method: str, path: str, headers: Message) -> Response:
        with self.lock:
            self.requests.append(Request(method, path, headers))
            queue = self.responses.get(key(method, path))
            if not queue:
                return Response(404, {"message": "Not Found", "fake_github": f"nothing scripted for {path}"}, {})
            return queue.pop(0) if len(queue) > 1 else queue[0]


class Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def do_GET(self) -> None:
        self.respond()

    def do_POST(self) -> None:
        self.respond()

    def respond(self) -> None:
        response = self.server.fake.answer(self.command, self.path, self.headers)  # type: ignore[attr-defined]
        body = b"" if response.json is None else json.dumps(response.json).encode()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if not any(name.lower() == "content-type" for name in response.headers):
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: http.server would print every request to stderr; tests read `.requests` instead."""


def key(method: str, path: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """Requests match on method, path and query parameters, whatever order the parameters come in."""
    url = urlsplit(path)
    return method.upper(), url.path, tuple(sorted(parse_qsl(url.query, keep_blank_values=True)))


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        yield server
