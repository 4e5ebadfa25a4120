import json
import logging
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, MutableMapping, Optional

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    AirbyteStreamStatus,
    AirbyteTraceMessage,
    ConfiguredAirbyteCatalog,
    Status,
    SyncMode,
    TraceType,
    Type,
)
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream
from airbyte_cdk.utils import AirbyteTracedException

from source_stripe.check import PROBES_AT_ONCE, ConnectionCheck
from source_stripe.client import StripeClient
from source_stripe.config import InvalidConfig, spelled_out, unknown_fields_warning, validate_config
from source_stripe.errors import SAID_BY_ITS_TRACE, without_traceback
from source_stripe.cdk import (
    build_component,
    flush_printed,
    message_repository,
    normalized_config,
    read_loop_queue,
    replace_state,
    state_manager,
)
from source_stripe.incremental import change_capture_streams
from source_stripe.progress import Heartbeat, SyncProgress, logged
from source_stripe.summary import summary
from source_stripe.tables import read_manifest


class SourceStripe(ConcurrentDeclarativeSource):
    # Checked by validate_config instead, whose messages name the field.
    check_config_against_spec = False

    def __init__(
        self,
        config: Optional[Mapping[str, Any]] = None,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        state: Optional[List[AirbyteStateMessage]] = None,
        config_path: Optional[str] = None,
    ) -> None:
        super().__init__(
            catalog=catalog,
            config=config or {},
            state=state or [],
            source_config=_with_a_worker_per_table(read_manifest()),
            config_path=config_path,
        )
        self._selected_streams, self._incremental_streams = _selected_streams_of(catalog), _incremental_streams_of(catalog)
        self._progress = SyncProgress(self._selected_streams)  # a read's own replaces it
        self.logger.addFilter(SAID_BY_ITS_TRACE)

    @classmethod
    def from_args(cls, args: List[str]) -> "SourceStripe":
        """Builds the source from the files named on the command line, as the Airbyte platform invokes it."""
        config_path = AirbyteEntrypoint.extract_config(args)
        catalog_path = AirbyteEntrypoint.extract_catalog(args)
        state_path = AirbyteEntrypoint.extract_state(args)
        return cls(
            config=_read_input("config", config_path, cls.read_config),
            catalog=_read_input("catalog", catalog_path, cls.read_catalog),
            state=_read_input("state", state_path, cls.read_state),
            config_path=config_path,
        )

    @staticmethod
    def read_config(config_path: str) -> MutableMapping[str, Any]:
        """The config file's fields, connected_accounts spelled out as the spec has it (the Airbyte entrypoint checks the
        config against the spec before the connector sees it)."""
        return dict(spelled_out(ConcurrentDeclarativeSource.read_config(config_path)))

    def configure(self, config: Mapping[str, Any], temp_dir: str) -> Mapping[str, Any]:
        """The config, not copied into a temporary file as the CDK would: nothing reads that copy, and a sync killed
        before cleaning up would leave the key behind in it."""
        return spelled_out(normalized_config(self) or config)

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        config = normalized_config(self) or config
        try:
            self._validate(logger, config)
        except AirbyteTracedException as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=error.message)
        return ConnectionCheck(self.resolved_manifest, config, StripeClient(self.resolved_manifest, config, self._build, PROBES_AT_ONCE), logger).run()

    def discover(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteCatalog:
        self._validate(logger, normalized_config(self) or config)
        return super().discover(logger, config)

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: Optional[List[AirbyteStateMessage]] = None,
    ) -> Iterator[AirbyteMessage]:
        self._validate(logger, normalized_config(self) or config)
        tables = {entry["$parameters"]["name"] for entry in self.resolved_manifest["streams"]}
        unknown = sorted({stream.stream.name for stream in catalog.streams} - tables)
        if unknown:
            raise InvalidConfig(
                f"The catalog selects tables this connector does not have: {', '.join(unknown)}. Refresh the source's "
                "schema and select among its tables."
            )
        self._selected_streams, self._incremental_streams = _selected_streams_of(catalog), _incremental_streams_of(catalog)
        self._progress = progress = SyncProgress(stream.stream.name for stream in catalog.streams)
        if state:
            # The CDK reads state given to the constructor; callers that hand it to read() alone must count too.
            replace_state(self, state)
            _warn_about_unknown_streams(state, tables, logger)
        errors_said, failed = set(), []
        records, heartbeat = progress.records, Heartbeat(read_loop_queue(self)).start()
        try:
            for message in super().read(logger, config, catalog, state):
                if message.type == Type.RECORD:  # records pass with this check and an increment
                    records[message.record.stream] += 1
                elif message is heartbeat.beat:
                    yield from map(logged, progress.lines())
                    flush_printed()  # resumed once the entrypoint printed the last line
                    continue
                elif message.type == Type.TRACE and message.trace:
                    progress.saw(message.trace)
                    error = message.trace.error
                    if error is not None:
                        if error.message in errors_said:
                            continue  # a revoked key fails every table alike; the closing error names them all
                        errors_said.add(error.message)
                        without_traceback(error)
                    failed += _incomplete_stream(message.trace)
                yield message
        except Exception as error:
            yield logged(summary(progress))
            if not failed or not isinstance(error, AirbyteTracedException):
                raise
            selected = [stream.stream.name for stream in catalog.streams]
            others = " The other tables were synced." if len(failed) < len(selected) else ""
            raise AirbyteTracedException(
                message=(
                    f"The sync did not finish: {_and_join(failed)} could not be read; the errors before this one say "
                    f"why and what to do.{others}"
                ),
                failure_type=error.failure_type,
            ) from error
        finally:
            heartbeat.stop()
        yield logged(summary(progress))

    def _validate(self, logger: logging.Logger, config: Mapping[str, Any]) -> None:
        """Refuses a config with a mistake, after a warning about fields it does not know (a misspelt field might be
        the mistake)."""
        spec = self.spec(logger).connectionSpecification
        warning = unknown_fields_warning(config, spec, self.resolved_manifest)
        if warning:
            logger.warning(warning)
        validate_config(config, spec)

    def streams(self, config: Mapping[str, Any]) -> List[AbstractStream]:  # type: ignore[override]
        config = normalized_config(self) or config
        workers = self._build(self.resolved_manifest["concurrency_level"], {}).get_concurrency_level()
        requests_in_flight = workers - len(self.resolved_manifest["streams"])
        # The CDK's workers and as many fetching child tables' requests each hold a connection.
        client = StripeClient(self.resolved_manifest, config, self._build, 2 * requests_in_flight)
        streams = change_capture_streams(
            self.resolved_manifest,
            config,
            client,
            self._build,
            self._selected_streams,
            self._incremental_streams,
            state_manager(self),
            message_repository(self),
            requests_in_flight,
        )
        self._progress.follow(client.connection.traffic, {stream.name: stream.progress for stream in streams})
        return streams

    def _build(self, definition: Mapping[str, Any], parameters: Mapping[str, Any]) -> Any:
        return build_component(self, definition, normalized_config(self) or {}, parameters)


def _with_a_worker_per_table(manifest: Dict[str, Any]) -> Dict[str, Any]:
    """The manifest's concurrency level (requests in flight) plus a worker per table, which hands out its partitions."""
    level, tables = manifest["concurrency_level"], len(manifest["streams"])
    requests = level["default_concurrency"].strip().removeprefix("{{").removesuffix("}}")
    level.update(default_concurrency=f"{{{{ ({requests}) + {tables} }}}}", max_concurrency=level["max_concurrency"] + tables)
    return manifest


def _read_input(kind: str, path: Optional[str], reader: Callable[[str], Any]) -> Any:
    """The content of a --config, --catalog or --state file, or one sentence on why it cannot be used (never quoting
    the file, which for a config holds the key)."""
    if not path:
        return None
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise InvalidConfig(f"The {kind} file {path} cannot be read: {error.strerror}.")
    if not text.strip():
        raise InvalidConfig(f"The {kind} file {path} is empty; it must hold the {kind} as JSON.")
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidConfig(f"The {kind} file {path} is not JSON: {error.msg} at line {error.lineno}, column {error.colno}.")
    try:
        return reader(path)
    except ValueError as error:
        detail = "it is not a JSON object" if kind == "config" else str(error).replace("Schema validation failed:", "").strip(" \n-")
        raise InvalidConfig(f"The {kind} file {path} is not a valid Airbyte {kind}: {detail}.")


def _warn_about_unknown_streams(state: List[AirbyteStateMessage], known: set, logger: logging.Logger) -> None:
    for message in state:
        stream = getattr(message, "stream", None)
        name = stream.stream_descriptor.name if stream else None
        if name and name not in known:
            logger.warning(f"The saved state names a table this connector does not have, {name!r}; it is ignored.")


def _incomplete_stream(trace: AirbyteTraceMessage) -> List[str]:
    """The table a stream status message says did not finish, as the protocol tells the platform."""
    status = trace.stream_status
    if trace.type == TraceType.STREAM_STATUS and status and status.status == AirbyteStreamStatus.INCOMPLETE:
        return [status.stream_descriptor.name]
    return []


def _and_join(names: List[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _selected_streams_of(catalog: Optional[ConfiguredAirbyteCatalog]) -> set:
    return {stream.stream.name for stream in catalog.streams} if catalog else set()


def _incremental_streams_of(catalog: Optional[ConfiguredAirbyteCatalog]) -> set:
    if not catalog:
        return set()
    return {stream.stream.name for stream in catalog.streams if stream.sync_mode == SyncMode.incremental}
