"""A small client for OpenAI-compatible chat-completions APIs (llama.cpp's server, Ollama, vLLM, hosted services).

It talks to the endpoint's host only: URLs are built from its base URL and redirects are not followed. A 429 is
waited out as its Retry-After says; server errors, timeouts and dropped connections are retried with backoff. A
refusal that retrying cannot change (a wrong key, address or model) is an EndpointError: the run stops with it.
"""

import email.utils
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import urllib3
from django.conf import settings

from llm.models import Endpoint

TRANSIENT_STATUSES = {500, 502, 503, 504}
MAX_RETRY_AFTER = 300.0  # seconds: a longer wait asked for is an outage, reported rather than slept through


class EndpointError(Exception):
    """The endpoint refused in a way every further request would meet too: the run stops with this reason."""


class RequestFailed(Exception):
    """One request kept failing (timeouts, server errors): that sample fails with this reason."""


class BudgetUsedUp(Exception):
    """The endpoint's request budget is spent: the run pauses until an admin raises it."""


@dataclass
class Completion:
    content: str  # the message's text ("" when the model refused)
    refusal: str  # the model's refusal, when it says it refuses
    model: str  # the model (and version) the endpoint says answered
    fingerprint: str  # the backend's configuration, when the endpoint tells it
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    raw: str  # the response body as received


def api_key(endpoint: Endpoint) -> str | None:
    """The key from the environment variable the endpoint names; EndpointError if it names one that is unset."""
    if not endpoint.api_key_env:
        return None
    key = os.environ.get(endpoint.api_key_env)
    if not key:
        raise EndpointError(
            f"The environment variable {endpoint.api_key_env} that holds {endpoint.name}'s key is not set for the "
            "task worker: set it and start the worker again."
        )
    return key


class ChatClient:
    def __init__(
        self,
        endpoint: Endpoint,
        *,
        spend: Callable[[], None] = lambda: None,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = 3,
    ) -> None:
        self.endpoint = endpoint
        self.url = endpoint.base_url.rstrip("/") + "/chat/completions"
        self.spend, self.sleep, self.max_retries = spend, sleep, max_retries
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if key := api_key(endpoint):
            self.headers["Authorization"] = f"Bearer {key}"
        self.pool = urllib3.PoolManager(
            num_pools=1,
            maxsize=endpoint.max_in_flight,
            block=True,
            retries=False,
            timeout=urllib3.Timeout(connect=10.0, read=float(endpoint.timeout_seconds)),
        )

    def complete(self, messages: list[dict], *, temperature: float, seed: int, schema: dict) -> Completion:
        body = json.dumps(
            {
                "model": self.endpoint.model,
                "messages": messages,
                "temperature": temperature,
                "seed": seed,
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "answer", "strict": True, "schema": schema},
                },
            }
        ).encode()
        failures = 0
        while True:
            self.spend()  # every request counts against the budget, retries too
            started = time.monotonic()
            try:
                response = self.pool.request("POST", self.url, body=body, headers=self.headers, redirect=False)
            except urllib3.exceptions.HTTPError as error:  # timeouts, refused or dropped connections
                reason = _network_reason(error, self.endpoint)
            else:
                seconds = time.monotonic() - started
                if response.status == 200:
                    return _completion(response.data, seconds)
                if response.status == 429:
                    self.sleep(_retry_after(response.headers.get("Retry-After")))
                    continue
                if response.status not in TRANSIENT_STATUSES:
                    raise EndpointError(_refusal(response, self.endpoint))
                reason = f"the endpoint answered {response.status} {response.reason or ''}".strip()
            failures += 1
            if failures > self.max_retries:
                raise RequestFailed(f"{reason} ({failures} tries)")
            self.sleep(min(settings.LLM_RETRY_BACKOFF_SECONDS * 2.0 ** (failures - 1), 30.0))


def _completion(data: bytes, seconds: float) -> Completion:
    raw = data.decode("utf-8", errors="replace")
    try:
        answer = json.loads(raw)
        message = answer["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise RequestFailed(f"the endpoint's response is not a chat completion: {raw[:200]!r}") from None
    usage = answer.get("usage") or {}
    return Completion(
        content=message.get("content") or "",
        refusal=message.get("refusal") or "",
        model=str(answer.get("model") or ""),
        fingerprint=str(answer.get("system_fingerprint") or ""),
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        seconds=seconds,
        raw=raw,
    )


def _retry_after(header: str | None) -> float:
    """Seconds to wait: Retry-After in seconds or as an HTTP date; 1 s when the endpoint does not say."""
    if not header:
        return 1.0
    try:
        wait = float(header)
    except ValueError:
        when = email.utils.parsedate_to_datetime(header) if email.utils.parsedate_tz(header) else None
        wait = when.timestamp() - time.time() if when else 1.0
    if wait > MAX_RETRY_AFTER:
        raise EndpointError(f"The endpoint asks to wait {wait:.0f} s before the next request: try again later.")
    return max(wait, 0.0)


def _network_reason(error: Exception, endpoint: Endpoint) -> str:
    if isinstance(error, urllib3.exceptions.TimeoutError):
        return f"no answer within {endpoint.timeout_seconds} s"
    return f"could not reach {endpoint.base_url} ({type(error).__name__})"


def _refusal(response, endpoint: Endpoint) -> str:
    detail = response.data[:300].decode("utf-8", errors="replace")
    what = {
        401: "the key was refused",
        403: "the key may not use this model",
        404: f"no model {endpoint.model!r} or no chat-completions API at {endpoint.base_url}",
    }.get(response.status, "it refused the request")
    return f"{endpoint.name} answered {response.status}: {what}. It said: {detail}"
