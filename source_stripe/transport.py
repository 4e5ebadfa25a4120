"""How a sync's requests reach Stripe: one request budget for the whole sync, one pooled session, and a retry loop
that does what the manifest's error handlers and backoff strategies say.

airbyte-cdk's HttpClient would do the same at about 0.8 ms of CPU per request single-threaded and over 2 ms with
dozens of workers (interpolating every request anew, pyrate-limiter's budget retrying its lock, nested backoff
decorators, proxy and netrc lookups in the environment); this takes about 0.12 ms, sent over http.client by
direct_http.DirectAdapter. Child tables make a request per parent, so that difference was most of a sync's CPU.
"""

import logging
import math
import threading
import time
from collections import deque
from typing import Any, Deque, Dict, List, Mapping, Optional, Tuple, Union
from urllib.parse import urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.utils import AirbyteTracedException

from source_stripe.components import retry_reason
from source_stripe.config import is_positive_number
from source_stripe.direct_http import ACCEPT_ENCODING, DirectAdapter

logger = logging.getLogger("airbyte")

# Stripe allows 100 read requests a second in live mode and 25 in test mode. By default the budget stays a little
# under, since network jitter bunches requests up at Stripe's end (live at 97: no 429 in 5 syncs of 2,050 requests;
# at 98, 0.05%).
STRIPE_LIMIT = {"live": 100, "test": 25}
DEFAULT_REQUESTS_PER_SECOND = {"live": 97, "test": 24}
# After a 429 every request waits this long. A 429 within REPEATED_RATE_LIMIT_SECONDS of the last one's pause means
# they keep coming, and drops the pace by a tenth (to no less than a quarter of the budget); each second without a
# 429 wins back 5% of the budget. A lone 429 is requests bunched up on the way, which the pause is enough for: slowing
# down too cost about 10 requests' turns while the pace recovered, for each.
PAUSE_AFTER_RATE_LIMIT_SECONDS = 0.2
REPEATED_RATE_LIMIT_SECONDS = 2.0
SLOWDOWN_AFTER_RATE_LIMIT = 0.9
RECOVERY_PER_SECOND = 0.05
DEFAULT_MAX_RETRIES = 5
# The budget lets requests go in this many groups a second (see RequestBudget): 10 at a time at 97 requests/s;
# larger groups cost less CPU but bunch up at Stripe (5 groups a second: 0.7% 429s, 10: 0.1%).
RELEASES_PER_SECOND = 10
# Below this pace requests go one at a time: waking for each costs under 2% of a core, and a group that arrives late
# at Stripe overshoots a small limit (test mode's 24 of 25 requests/s: groups of 3 gave 0.1-1.6% 429s).
GROUPED_FROM_PER_SECOND = 50


def requests_per_second(config: Mapping[str, Any]) -> Optional[float]:
    """The sync's budget: the user's if set, never above Stripe's limit for the key's mode (None: no budget, which
    the config allows against a local sandbox only)."""
    if config.get("no_request_budget"):
        return None
    mode = "live" if config.get("environment") == "live" else "test"
    return min(config.get("requests_per_second") or DEFAULT_REQUESTS_PER_SECOND[mode], STRIPE_LIMIT[mode])


class RequestBudget:
    """Lets the requests of every table through at no more than the allowed rate in any second, in groups
    (RELEASES_PER_SECOND a second; one by one below GROUPED_FROM_PER_SECOND): requests released together are sent
    back to back, where spacing each one alone would wake the process for every request (measured: 0.9 ms of CPU per
    request evenly spaced at 95/s, 0.55 ms in groups of ten, 0.3 ms unthrottled; 20 groups a second cost a third more
    CPU than 10, 2 to 5 alike)."""

    def __init__(self, per_second: Optional[float]) -> None:
        self._unlimited = per_second is None
        self._ceiling = self._rate = float(per_second or 1)
        self._lock = threading.Lock()
        # The latest requests, oldest first: each [its turn, when it went] (later than its turn if its thread woke late).
        self._sent: Deque[List[float]] = deque(maxlen=max(1, int(self._rate)))
        self._paused_until = 0.0
        self._recovered_until = 0.0

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def per_second(self) -> Optional[float]:
        """The budget as set (None: no budget), whatever 429s have made of its pace."""
        return None if self._unlimited else self._ceiling

    def acquire(self) -> None:
        """Waits for this request's turn."""
        if self._unlimited:
            return
        with self._lock:
            now = time.monotonic()
            if self._rate < self._ceiling and now > self._recovered_until:
                self._rate = min(self._ceiling, self._rate + RECOVERY_PER_SECOND * self._ceiling * (now - self._recovered_until))
                self._recovered_until = now
            per_second = max(1, int(self._rate))
            if per_second >= GROUPED_FROM_PER_SECOND:
                per_release, spacing = math.ceil(per_second / RELEASES_PER_SECOND), 1 / RELEASES_PER_SECOND
            else:
                per_release, spacing = 1, 1 / per_second
            sent = self._sent
            turn = max(now, self._paused_until, sent[-1][0] if sent else now)
            if len(sent) >= per_second:
                # A second after a request really went: had a late one counted from its turn, the requests a second
                # later reached Stripe in the same second as it (0.05-0.25% 429s, none since).
                turn = max(turn, sent[-per_second][1] + 1)
            if len(sent) >= per_release:
                turn = max(turn, sent[-per_release][0] + spacing)
            this = [turn, turn]
            sent.append(this)
        if turn > now:
            sleep(turn - now)
            this[1] = max(turn, time.monotonic())

    def rate_limited(self) -> None:
        """Stripe answered 429: requests bunched up on the way, which a short pause lets Stripe's window slide past,
        or others share the account's limit, which 429s that keep coming after the pause answer with a slower pace.
        The 429s of requests sent together count once."""
        with self._lock:
            now = time.monotonic()
            if now < self._paused_until:
                return
            if now - self._paused_until < REPEATED_RATE_LIMIT_SECONDS:
                self._rate = max(self._ceiling / 4, self._rate * SLOWDOWN_AFTER_RATE_LIMIT)
            self._paused_until = self._recovered_until = now + PAUSE_AFTER_RATE_LIMIT_SECONDS


def sleep(seconds: float) -> None:
    """Every wait of a sync's requests, in one place (tests record them instead)."""
    time.sleep(seconds)


class StripeRefused(AirbyteTracedException):
    """A request the manifest's error handler says not to retry, or retried in vain; `response` is Stripe's last answer
    (None: no answer)."""

    def __init__(self, message: str, failure_type: FailureType, response: Optional[requests.Response]) -> None:
        super().__init__(message=message, internal_message=message, failure_type=failure_type)
        self.response = response
        self.status_code = response.status_code if response is not None else None


class TableTraffic:
    """One table's requests in a sync, the retries among them and Stripe's 429s, counted by every thread that sends
    them (under a lock: `+=` from several threads can lose counts; uncontended, it costs about 0.1% of a request)."""

    def __init__(self) -> None:
        self.requests = self.retries = self.rate_limited = 0
        self._lock = threading.Lock()

    def sent(self, rate_limited: bool) -> None:
        with self._lock:
            self.requests += 1
            self.rate_limited += rate_limited

    def retried(self) -> None:
        with self._lock:
            self.retries += 1


class StripeConnection:
    """What every request of a sync shares: the budget, one session whose pool holds a connection per worker, and
    the base URL, headers and timeouts the manifest's requester gives, evaluated once. `traffic` counts each table's
    requests, by the name its requests are asked for."""

    def __init__(self, requester: Any, definition: Mapping[str, Any], config: Mapping[str, Any], budget: RequestBudget, workers: int) -> None:
        self.budget = budget
        self.base_url = requester.get_url()
        # The hidden read_timeout_seconds lets tests make the sandbox answer slowly without waiting Stripe's 80 s.
        read_timeout = config.get("read_timeout_seconds") if is_positive_number(config.get("read_timeout_seconds")) else None
        self.timeout = (definition.get("connect_timeout_in_seconds"), read_timeout or definition.get("read_timeout_in_seconds"))
        self.session = requests.Session()
        adapter = DirectAdapter(fallback=HTTPAdapter(pool_connections=1, pool_maxsize=workers))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.headers = CaseInsensitiveDict(
            {**self.session.headers, **requester.get_request_headers(), **requester.get_authenticator().get_auth_header()}
        )
        # What DirectAdapter decodes: requests would also ask for brotli or zstd wherever their packages are installed.
        self.headers["Accept-Encoding"] = ACCEPT_ENCODING
        # Proxy, CA bundle and client certificate from the environment, looked up once rather than per request.
        self.settings = self.session.merge_environment_settings(self.base_url, {}, None, None, None)
        self._account_headers: Dict[str, CaseInsensitiveDict] = {}
        self.traffic: Dict[str, TableTraffic] = {}

    def send(self, url: str, params: Mapping[str, Any], account: Optional[str] = None) -> requests.Response:
        """A GET prepared by hand: Stripe's lists need no cookies, auth hooks or redirects, and preparing a request
        the session's way would cost a third of its CPU. `account`: the connected account it reads (None: the one the
        manifest's requester names)."""
        request = requests.PreparedRequest()
        # The headers are shared by every request of an account: nothing on the way to the socket changes them.
        headers = self.headers if account is None else self._headers_of(account)
        request.method, request.url, request.headers = "GET", f"{url}?{urlencode(params, doseq=True)}", headers
        return self.session.send(request, timeout=self.timeout, allow_redirects=False, **self.settings)

    def _headers_of(self, account: str) -> CaseInsensitiveDict:
        headers = self._account_headers.get(account)
        if headers is None:
            headers = self._account_headers.setdefault(account, CaseInsensitiveDict({**self.headers, "Stripe-Account": account}))
        return headers

    def requests_of(self, table: str, error_handler: ErrorHandler, max_retries: Optional[int] = None, account: Optional[str] = None) -> "TableRequests":
        return TableRequests(table, self, error_handler, max_retries, account)

    def traffic_of(self, table: str) -> TableTraffic:
        traffic = self.traffic.get(table)
        if traffic is None:
            traffic = self.traffic.setdefault(table, TableTraffic())
        return traffic


class TableRequests:
    """One table's GETs, each retried as its error handler says: its answer, or an exception saying why not.
    `max_retries` lowers the handler's retry budget (the check answers within seconds, not minutes)."""

    def __init__(
        self, table: str, connection: StripeConnection, error_handler: ErrorHandler, max_retries: Optional[int] = None, account: Optional[str] = None
    ) -> None:
        self._table, self._connection, self._errors, self._account = table, connection, error_handler, account
        own = error_handler.max_retries if error_handler.max_retries is not None else DEFAULT_MAX_RETRIES
        self._max_retries = own if max_retries is None else min(own, max_retries)
        self._backoff_strategies = getattr(error_handler, "backoff_strategies", None) or []
        self._traffic = connection.traffic_of(table)

    def get(self, path: str, params: Mapping[str, Any]) -> requests.Response:
        return self.answer(path, params)[0]

    def answer(self, path: str, params: Mapping[str, Any]) -> Tuple[requests.Response, Optional[str]]:
        """Stripe's answer and, for an error answer the error handler lets through, what it says that answer means."""
        connection, url = self._connection, self._connection.base_url + path
        retries = 0
        while True:
            connection.budget.acquire()
            answer: Union[requests.Response, requests.RequestException]
            try:
                answer = connection.send(url, params, self._account)
            except requests.RequestException as error:
                answer = error
            rate_limited = isinstance(answer, requests.Response) and answer.status_code == 429
            self._traffic.sent(rate_limited)
            if rate_limited:
                connection.budget.rate_limited()
            resolution = self._errors.interpret_response(answer)
            if resolution.response_action in (ResponseAction.SUCCESS, ResponseAction.IGNORE) and isinstance(answer, requests.Response):
                return answer, resolution.error_message if resolution.response_action == ResponseAction.IGNORE else None
            if resolution.response_action not in (ResponseAction.RETRY, ResponseAction.RATE_LIMITED):
                raise self._refusal(resolution, answer, url)
            request = f"GET {urlsplit(url).path}?{urlencode(params, doseq=True)}"
            if retries == self._max_retries:
                logger.info(f"{self._table}: giving up on {request} after {retries} retries, because {retry_reason(answer)}.")
                raise self._gave_up(resolution, answer)
            retries += 1
            self._traffic.retried()
            wait = self._backoff(answer, retries)
            logger.info(f"{self._table}: retry {retries} of {request} after a {wait:.1f} s backoff, because {retry_reason(answer)}.")
            sleep(wait)

    def _backoff(self, answer: Union[requests.Response, Exception], retries: int) -> float:
        """The first wait a backoff strategy of the manifest names (Retry-After, then its own), else exponential."""
        for strategy in self._backoff_strategies:
            wait = strategy.backoff_time(response_or_exception=answer, attempt_count=retries)
            if wait:
                return float(wait)
        return float(min(60, 2**retries))

    def _refusal(self, resolution: ErrorResolution, answer: Union[requests.Response, Exception], url: str) -> StripeRefused:
        response = answer if isinstance(answer, requests.Response) else None
        message = resolution.error_message or f"Stripe's answer to GET {urlsplit(url).path} cannot be used: {retry_reason(answer)}."
        return StripeRefused(message, resolution.failure_type or FailureType.system_error, response)

    def _gave_up(self, resolution: ErrorResolution, answer: Union[requests.Response, Exception]) -> StripeRefused:
        response = answer if isinstance(answer, requests.Response) else None
        if response is not None and response.status_code == 429:
            message = (
                f"Stripe's rate limit was still reached after every retry while reading {self._table}: lower "
                "requests_per_second if other integrations use the same Stripe account."
            )
        elif response is None:
            # The CDK's message for a failed request is the exception's text, which quotes the reprs of all it wraps.
            message = f"Gave up after retrying: {retry_reason(answer)}."
        else:
            message = f"Gave up after retrying: {resolution.error_message or retry_reason(answer)}"
        return StripeRefused(message, resolution.failure_type or FailureType.transient_error, response)

