"""How a failure reaches the user. One the connector has put in words, a mistake the user can fix (config_error) or a
failure of Stripe or the network to wait out (transient_error), is said once, by its sentence in the TRACE error the
platform shows, without a Python traceback, which would only bury it. A bug (system_error, or any other exception)
keeps its traceback for whoever fixes it."""

import logging
from typing import Optional

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.exception_handler import generate_failed_streams_error_message
from airbyte_cdk.models import AirbyteErrorTraceMessage, FailureType
from airbyte_cdk.utils import AirbyteTracedException

EXPLAINED = (FailureType.config_error, FailureType.transient_error)
# How the CDK's read loop starts the line it logs at the end naming every failed table with its error's repr; the
# closing error names the tables, and each table's own error says why.
_FAILED_TABLES_LINE = generate_failed_streams_error_message({})


def is_explained(error: Optional[BaseException]) -> bool:
    return isinstance(error, AirbyteTracedException) and error.failure_type in EXPLAINED


def without_traceback(error: AirbyteErrorTraceMessage) -> AirbyteErrorTraceMessage:
    """A TRACE error as the user sees it: an explained failure's stack trace is dropped."""
    if error.failure_type in EXPLAINED:
        error.stack_trace = None
    return error


def trace_line(error: AirbyteTracedException) -> str:
    """The TRACE error that says `error`, secrets masked, as a line of output."""
    message = error.as_sanitized_airbyte_message()
    without_traceback(message.trace.error)
    return AirbyteEntrypoint.airbyte_message_to_string(message)


class SaidByItsTrace(logging.Filter):
    """Drops the log lines that repeat a failure its TRACE error says: the CDK logs each failed table's error with its
    traceback before emitting that error, and at the end their reprs on one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and is_explained(record.exc_info[1]):
            return False
        return not (isinstance(record.msg, str) and record.msg.startswith(_FAILED_TABLES_LINE))


SAID_BY_ITS_TRACE = SaidByItsTrace()
