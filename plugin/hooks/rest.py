"""The HTTP layer every platform client shares: one requests session with timeouts
and urllib3 retries, a log of calls made, and vendor errors translated at the
edge into a few readable `PlatformError`s."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from ..errors import PlatformError

# Gateway errors usually mean the request did not reach the application, but not
# always: a proxy may answer 504 after the platform took the request. So only the
# idempotent methods are resent here; a POST (a new comment or article) is tried
# again only on the checked path, the task-level retry that reads the ticket and
# looks for the article's marker first. 429 and 500 are left to that retry too, which
# waits out a Retry-After in the queue instead of blocking a worker thread (so urllib3
# is told not to honour Retry-After itself).
RETRY_STATUSES = (502, 503, 504)
RETRY_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class CallRecord:
    method: str
    path: str
    status: int | None
    changes: bool = True        # False for GETs and for POSTs that only search (a knowledge base)


def build_session(retries: int, backoff: float = 0.2) -> requests.Session:
    retry = Retry(total=retries, connect=retries, read=0, status=retries, other=0,
                  status_forcelist=RETRY_STATUSES, allowed_methods=RETRY_METHODS,
                  backoff_factor=backoff, respect_retry_after_header=False,
                  raise_on_status=False)
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry, pool_maxsize=16)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class RestClient:
    platform = ""

    def __init__(self, base_url: str, headers: dict[str, str], *, timeout: float = 10.0,
                 retries: int = 2, backoff: float = 0.2, auth: Any = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = build_session(retries, backoff)
        self.session.headers.update({"Accept": "application/json", **headers})
        if auth is not None:
            self.session.auth = auth
        self._local = threading.local()

    @property
    def calls(self) -> list[CallRecord]:
        if not hasattr(self._local, "calls"):
            self._local.calls = []
        return self._local.calls

    def take_calls(self) -> list[CallRecord]:
        calls, self._local.calls = list(self.calls), []
        return calls

    def request(self, method: str, path: str, *, params: dict | None = None,
                json: Any = None, expect_json: bool = True, changes: bool | None = None) -> Any:
        url = f"{self.base_url}{path}"
        changes = method != "GET" if changes is None else changes
        try:
            resp = self.session.request(method, url, params=params, json=json,
                                        timeout=(min(self.timeout, 5.0), self.timeout))
        except requests.exceptions.Timeout:
            self.calls.append(CallRecord(method, path, None, changes))
            raise PlatformError(f"{self.platform} did not answer {method} {path} within "
                                f"{self.timeout:g}s", key="timeout", retryable=True) from None
        except requests.exceptions.RetryError:
            self.calls.append(CallRecord(method, path, 503, changes))
            raise PlatformError(f"{self.platform} kept answering with an error to {method} {path}",
                                key="unavailable", retryable=True, http_status=503) from None
        except requests.exceptions.ConnectionError as exc:
            self.calls.append(CallRecord(method, path, None, changes))
            if _read_timeout(exc):   # with read retries off, urllib3 reports it this way
                raise PlatformError(f"{self.platform} did not answer {method} {path} within "
                                    f"{self.timeout:g}s", key="timeout", retryable=True) from None
            raise PlatformError(f"cannot reach {self.platform} at {self.base_url}",
                                key="cannot_connect", retryable=True) from None
        self.calls.append(CallRecord(method, path, resp.status_code, changes))
        if resp.status_code >= 400:
            raise self._error(method, path, resp)
        if not expect_json or resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise PlatformError(f"{self.platform} answered {method} {path} with non-JSON",
                                key="bad_response", retryable=True) from None

    def _error(self, method: str, path: str, resp: requests.Response) -> PlatformError:
        code = resp.status_code
        detail = self.error_detail(resp)
        where = f"{method} {path}"
        if code == 401:
            return PlatformError(f"{self.platform} rejected the API token ({where}){detail}",
                                 key="invalid_auth", http_status=code)
        if code == 403:
            return PlatformError(f"the API user lacks permission for {where}{detail}",
                                 key="forbidden", http_status=code)
        if code == 404:
            return PlatformError(f"{self.platform} has no {path}", key="not_found", http_status=code)
        if code == 429:
            return PlatformError(f"{self.platform} is rate limiting ({where})", key="rate_limited",
                                 retryable=True, retry_after=_retry_after(resp), http_status=code)
        if code >= 500:
            return PlatformError(f"{self.platform} failed on {where} with HTTP {code}{detail}",
                                 key="unavailable", retryable=True,
                                 retry_after=_retry_after(resp), http_status=code)
        return PlatformError(f"{self.platform} refused {where} with HTTP {code}{detail}",
                             key="rejected", http_status=code)

    def error_detail(self, resp: requests.Response) -> str:
        return ""


def _read_timeout(exc: Exception) -> bool:
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, ReadTimeoutError)


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        # HTTP-date form: let urllib3 parse it rather than writing a date parser.
        seconds = Retry().parse_retry_after(value)
        return max(0.0, float(seconds)) if seconds is not None else None
