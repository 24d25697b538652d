"""A deterministic OpenAI-compatible chat-completions server on 127.0.0.1, for the model raters' tests and bench.

Real HTTP, never the network. It answers from `answers[(issue number, question label)]` (a value, or a list of
values given in turn by seed), finding the issue and the question in the prompt as llm/prompts.py writes them.
`script[issue number]` lists misbehaviours to play, one per request, before answering normally:
"slow" (1.5 s: past a 1 s timeout), "malformed" (not JSON), "invalid" (a value outside the choices), "refuse",
"429" (with Retry-After: 0), "500", "401", "redirect" (302 to another host). Every request is kept in `requests`.
"""

import contextlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ISSUE = re.compile(r"# The issue: (?P<repo>\S+)#(?P<number>\d+)")
QUESTION = re.compile(r"# The question: (?P<label>.+)")


class FakeModelServer:
    def __init__(self, *, latency: float = 0.0, model: str = "fake-model-1", fingerprint: str = "fp_test") -> None:
        self.answers: dict[tuple[int, str], object] = {}
        self.defaults: dict[str, object] = {}  # question label: the answer for any issue not in `answers`
        self.script: dict[int, list[str]] = {}
        self.requests: list[dict] = []
        self.latency, self.model, self.fingerprint = latency, model, fingerprint
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/v1"

    def __enter__(self) -> "FakeModelServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def respond(self, request: dict, headers: dict) -> tuple[int, dict, bytes]:
        user = request["messages"][-1]["content"]
        issue, question = ISSUE.search(user), QUESTION.search(user)
        number = int(issue["number"]) if issue else 0
        with self.lock:
            self.requests.append({"body": request, "headers": headers, "issue": number})
            step = self.script.get(number, []).pop(0) if self.script.get(number) else "answer"
        if step == "slow":
            time.sleep(1.5)  # past the tests' 1 s timeout
        if step == "429":
            return 429, {"Retry-After": "0"}, b'{"error": {"message": "rate limited"}}'
        if step == "redirect":  # elsewhere: a client that followed it would send the prompt to another host
            return 302, {"Location": "http://192.0.2.1/v1/chat/completions"}, b""
        if step in ("500", "401"):
            return int(step), {}, b'{"error": {"message": "' + step.encode() + b'"}}'
        if step == "malformed":
            return 200, {}, self._completion(request, "Sure! The answer is {value: maybe")
        if step == "refuse":
            return 200, {}, self._completion(request, None, refusal="I can't help with that.")
        label = question["label"].strip() if question else ""
        answer = self.answers.get((number, label), self.defaults.get(label))
        if isinstance(answer, PerSeed):
            answer = answer[request.get("seed", 0) % len(answer)]
        if step == "invalid":
            answer = "A value no codebook has"
        content = json.dumps({"value": answer, "rationale": f"Issue {number} reads so."})
        return 200, {}, self._completion(request, content)

    def _completion(self, request: dict, content: str | None, refusal: str | None = None) -> bytes:
        message = {"role": "assistant", "content": content, "refusal": refusal}
        return json.dumps(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "model": self.model,
                "system_fingerprint": self.fingerprint,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": len(request["messages"][-1]["content"]) // 4, "completion_tokens": 12},
            }
        ).encode()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                with fake.lock:
                    fake.in_flight += 1
                    fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
                try:
                    if fake.latency:
                        time.sleep(fake.latency)
                    if self.path != "/v1/chat/completions":
                        status, headers, body = 404, {}, b'{"error": {"message": "no such route"}}'
                    else:
                        length = int(self.headers.get("Content-Length", 0))
                        request = json.loads(self.rfile.read(length))
                        status, headers, body = fake.respond(request, dict(self.headers))
                finally:
                    # Done before answering: once answered, the client may send its next request at once.
                    with fake.lock:
                        fake.in_flight -= 1
                # The client may have given up already: a timeout is what some tests check.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler


class PerSeed(list):
    """answers[(n, label)] = PerSeed([a, b, c]): the answer to seed s is the s-th (cycling): k samples that differ."""
