"""Python components for what manifest.yaml cannot say; each is named in the manifest by its class."""

import logging
import random
import time
from dataclasses import InitVar, dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Mapping, Optional, Sequence, Union

import orjson
import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.retrievers.retriever import Retriever
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy, ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.utils import AirbyteTracedException

logger = logging.getLogger("airbyte")

ResponseOrException = Optional[Union[requests.Response, Exception]]
_UNPARSED = object()


def parsed_body(response: requests.Response) -> Any:
    """The response's JSON body, parsed once however many components read it (None when it is not JSON)."""
    body = response.__dict__.get("_stripe_parsed_body", _UNPARSED)
    if body is _UNPARSED:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        response.__dict__["_stripe_parsed_body"] = body
    return body


def is_list_page(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("data"), list) and isinstance(body.get("has_more"), bool)


@dataclass
class ReadBySourceStripe(Retriever):
    """Every table's retriever in the manifest. The connector reads tables with its own engine from their entries;
    a runner that has only the manifest (the Connector Builder, a manifest-only image) is told so rather than reading
    something else."""

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: Any = None) -> Any:
        message = (
            "This manifest's tables are read by the source-stripe connector's engine, not by the manifest alone: run "
            "the connector (the airbyte/source-stripe image or `source-stripe read`)."
        )
        raise AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


@dataclass
class _DeferringErrorHandler(ErrorHandler):
    """Base for handlers placed before a DefaultErrorHandler in a CompositeErrorHandler: returning None lets it decide.

    A CompositeErrorHandler takes its retry budget from its first handler, so these carry the budget they are given.
    """

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    max_retries: Optional[int] = None
    max_time: Optional[int] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream = parameters.get("name", "a table")


@dataclass
class HonourStripeShouldRetry(_DeferringErrorHandler):
    """Stripe's `Stripe-Should-Retry: true` overrides the status code (e.g. a 409 lock timeout is safe to retry)."""

    def interpret_response(self, response_or_exception: ResponseOrException) -> Optional[ErrorResolution]:
        if isinstance(response_or_exception, requests.Response) and not response_or_exception.ok:
            if response_or_exception.headers.get("Stripe-Should-Retry") == "true":
                return ErrorResolution(
                    response_action=ResponseAction.RETRY,
                    failure_type=FailureType.transient_error,
                    error_message=f"Stripe answered {response_or_exception.status_code} for {self._stream}, an error it marks as temporary.",
                )
        return None


@dataclass
class RetryUnreadableListPage(_DeferringErrorHandler):
    """A 200 whose body is cut off or is not a Stripe list would otherwise end the table early with no error."""

    def interpret_response(self, response_or_exception: ResponseOrException) -> Optional[ErrorResolution]:
        if not isinstance(response_or_exception, requests.Response) or not response_or_exception.ok:
            return None
        if is_list_page(parsed_body(response_or_exception)):
            return None
        return ErrorResolution(
            response_action=ResponseAction.RETRY,
            failure_type=FailureType.transient_error,
            error_message=(
                f"Stripe sent an unreadable list page for {self._stream} (truncated, not JSON, or without "
                "'data' and 'has_more'). Nothing after the last saved state was lost: the next sync reads it again."
            ),
        )


@dataclass
class RetryUnreadableObject(_DeferringErrorHandler):
    """A 200 whose body is cut off or is not a JSON object, for a single object re-fetched, would otherwise fail its
    table as an unexpected error on the first try."""

    def interpret_response(self, response_or_exception: ResponseOrException) -> Optional[ErrorResolution]:
        if not isinstance(response_or_exception, requests.Response) or not response_or_exception.ok:
            return None
        if isinstance(parsed_body(response_or_exception), dict):
            return None
        return ErrorResolution(
            response_action=ResponseAction.RETRY,
            failure_type=FailureType.transient_error,
            error_message=(
                f"Stripe sent an unreadable object for {self._stream} (truncated or not JSON). Nothing after the last "
                "saved state was lost: the next sync reads it again."
            ),
        )


@dataclass
class LegacyOrdersApiAbsent(_DeferringErrorHandler):
    """Stripe retired the Orders API in 2022; accounts that never used it answer 404, which means an empty table."""

    _warned: bool = field(default=False, init=False)

    def interpret_response(self, response_or_exception: ResponseOrException) -> Optional[ErrorResolution]:
        if isinstance(response_or_exception, requests.Response) and response_or_exception.status_code == 404:
            message = (
                f"{self._stream}: this account has no legacy Orders API (Stripe answered 404; it retired Orders in "
                "2022), so the table is empty and no action is needed."
            )
            if not self._warned:
                logger.warning(message)
                self._warned = True
            return ErrorResolution(response_action=ResponseAction.IGNORE, error_message=message)
        return None


@dataclass
class ProductNotEnabled(_DeferringErrorHandler):
    """A table of a Stripe product the account does not have (Connect, Issuing) answers 404, or 400 or 403 with one
    of `refusals` in its message: an empty table, said once, not a failed sync."""

    product: str = ""
    refusals: Sequence[str] = ()
    _warned: bool = field(default=False, init=False)

    def interpret_response(self, response_or_exception: ResponseOrException) -> Optional[ErrorResolution]:
        if not isinstance(response_or_exception, requests.Response) or response_or_exception.status_code not in (400, 403, 404):
            return None
        body = parsed_body(response_or_exception)
        error = body.get("error") if isinstance(body, dict) else None
        said = str(error.get("message") or "") if isinstance(error, dict) else ""
        if response_or_exception.status_code != 404 and not any(refusal in said for refusal in self.refusals):
            return None  # a missing permission or a malformed request, said as such
        if isinstance(error, dict) and error.get("code") == "resource_missing":
            return None  # an object that is gone (a parent whose list is asked), not a product
        message = f"{self._stream}: this account does not use Stripe {self.product} (Stripe said: {said or 'not found'}), so the table is empty."
        if not self._warned:
            logger.warning(message)
            self._warned = True
        return ErrorResolution(response_action=ResponseAction.IGNORE, error_message=message)


@dataclass
class ObjectGone(_DeferringErrorHandler):
    """Stripe answers 404 resource_missing for an object it no longer has: re-fetched for an event (a deleted draft
    invoice), or the parent a list's path names (the usage of a deleted subscription item). It is gone, which the
    engine records as a deletion or as no rows, not a failure of the table."""

    def interpret_response(self, response_or_exception: ResponseOrException) -> Optional[ErrorResolution]:
        if not isinstance(response_or_exception, requests.Response) or response_or_exception.status_code != 404:
            return None
        body = parsed_body(response_or_exception)
        if not isinstance(body, dict):  # cut off or not JSON: whether the object is gone cannot be told yet
            return ErrorResolution(
                response_action=ResponseAction.RETRY,
                failure_type=FailureType.transient_error,
                error_message=f"Stripe's 404 for {self._stream} arrived unreadable (truncated or not JSON); asking again.",
            )
        error = body.get("error")
        if not isinstance(error, dict) or error.get("code") != "resource_missing":
            return None
        return ErrorResolution(response_action=ResponseAction.IGNORE, error_message=f"{self._stream}: the object no longer exists")


@dataclass
class JitteredExponentialBackoff(BackoffStrategy):
    """Used when Stripe sends no Retry-After: randomised waits keep parallel workers from retrying in lockstep."""

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    base_seconds: float = 1.0
    cap_seconds: float = 60.0

    def backoff_time(self, response_or_exception: ResponseOrException, attempt_count: int) -> Optional[float]:
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(attempt_count - 1, 0))
        return random.uniform(ceiling / 2, ceiling)


def answered_by(response: requests.Response) -> str:
    """Stripe gives every answer a Request-Id: an error without one came from a proxy or gateway between the
    connector and Stripe, which is where to look, not Stripe's status page."""
    return "Stripe" if response.headers.get("Request-Id") else "a proxy or gateway on the way to Stripe (no Request-Id)"


def retry_reason(response_or_exception: ResponseOrException) -> str:
    """Why a request is retried, in words: Stripe's status and message, or what went wrong on the wire."""
    if isinstance(response_or_exception, requests.Response):
        who = answered_by(response_or_exception)
        unreadable = f"{who} answered {response_or_exception.status_code} with a body cut off or not in Stripe's shape"
        if response_or_exception.ok:
            return unreadable
        try:
            message = orjson.loads(response_or_exception.content)["error"]["message"]
        except orjson.JSONDecodeError:
            return unreadable
        except (KeyError, TypeError):
            message = None
        return f"{who} answered {response_or_exception.status_code}" + (f" ({message})" if message else "")
    if isinstance(response_or_exception, requests.exceptions.Timeout):
        return "Stripe sent nothing within the timeout"
    if isinstance(response_or_exception, requests.exceptions.ChunkedEncodingError):
        return "the connection broke before the whole body arrived"
    if isinstance(response_or_exception, requests.exceptions.ConnectionError):
        return f"the connection failed or was reset ({_first_cause(response_or_exception)})"
    return f"of {type(response_or_exception).__name__}"


def _first_cause(error: BaseException) -> str:
    """What went wrong first, in its own words: requests and urllib3 wrap it in errors whose messages quote the
    wrapped ones' reprs and urllib3's "Max retries exceeded" (its retries are off: the connector retries itself)."""
    while True:
        wrapped = getattr(error, "reason", None) or next((arg for arg in error.args if isinstance(arg, BaseException)), None) or error.__cause__
        if not isinstance(wrapped, BaseException):
            break
        error = wrapped
    return (error.strerror if isinstance(error, OSError) else None) or str(error)


def observed_at(response: requests.Response) -> int:
    """The cursor value of objects read in `response`: its second on Stripe's clock (the Date header), less 1 ms.

    Stripe stamps events to the second, so an event in the same second as a read may record a change made just after
    it; the 1 ms lets that event's version win. An embedded page has no headers of its own and is dated now.
    """
    date = response.headers.get("Date")
    seconds = parsedate_to_datetime(date).timestamp() if date else time.time()
    return int(seconds) * 1000 - 1
