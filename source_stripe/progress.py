"""What a sync has done so far, table by table, and the progress lines that say it while tables are read.

The read loop (SourceStripe.read, on the main thread) counts records and notes when tables start and end; the threads
that send requests count them (transport.TableTraffic); each table's plans know its partitions. A heartbeat thread
wakes the read loop every PROGRESS_EVERY_SECONDS, even when nothing flows (every request of a table waiting out a long
Retry-After), and the read loop answers with a line per table being read: the lines are made and printed on the one
thread that prints, so none interleaves with another message or follows its table's end.
"""

import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from queue import Full, Queue
from typing import Any, Callable, DefaultDict, Dict, Iterable, List, Mapping, Optional, Tuple

from airbyte_cdk.models import AirbyteLogMessage, AirbyteMessage, AirbyteStreamStatus, AirbyteTraceMessage, Level, TraceType, Type

from source_stripe.transport import TableTraffic

# A table's line is due at least every 10 s; the heartbeat's wake-up can wait behind up to 10,000 records in the CDK's
# queue (about a second at the connector's pace), so lines come a little more often.
PROGRESS_EVERY_SECONDS = 8
# How long the heartbeat waits at a time for room in a full queue before checking whether the read is over.
ROOM_WAIT_SECONDS = 0.5

PartitionsProgress = Callable[[], Tuple[int, int, Optional[int]]]  # done, known, `created` read up to from the start (None: not yet)


@dataclass(frozen=True)
class TableFigures:
    """What a sync did for one table (or for the requests asked under another name, such as the key's own account)."""

    name: str
    records: int
    requests: int
    retries: int
    rate_limited: int
    seconds: Optional[float]  # from its start to its end, or to now while it runs (None: it never started)


class SyncProgress:
    """One sync's figures per table, as its read goes. `tables`: those the catalog selects, in its order; `clock`:
    seconds on a clock that only moves forward."""

    def __init__(self, tables: Iterable[str], clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._began = clock()
        # Written by the read loop alone, an increment a record.
        self.records: DefaultDict[str, int] = defaultdict(int, dict.fromkeys(tables, 0))
        self._traffic: Mapping[str, TableTraffic] = {}
        self._partitions: Dict[str, PartitionsProgress] = {}
        self._started: Dict[str, float] = {}
        self._ended: Dict[str, float] = {}
        self._said: Dict[str, Tuple[float, int]] = {}  # per table read: when its last line was said, its requests then

    def follow(self, traffic: Mapping[str, TableTraffic], partitions: Mapping[str, PartitionsProgress]) -> None:
        """Reads each table's requests from `traffic` and its partitions' progress from `partitions`, by table name."""
        self._traffic, self._partitions = traffic, dict(partitions)

    def saw(self, trace: AirbyteTraceMessage) -> None:
        """Notes a table starting or ending, from the stream status the read loop passes on."""
        status = trace.stream_status
        if trace.type != TraceType.STREAM_STATUS or status is None:
            return
        name = status.stream_descriptor.name
        if status.status == AirbyteStreamStatus.STARTED:
            self._started.setdefault(name, self._clock())
        elif status.status in (AirbyteStreamStatus.COMPLETE, AirbyteStreamStatus.INCOMPLETE):
            self._ended.setdefault(name, self._clock())

    def lines(self) -> List[str]:
        """A line for each table being read: its records so far, its partitions done of those known, how far `created`
        is read, and its requests/s since its last line (or its start). Tables not started or ended say nothing."""
        now, lines = self._clock(), []
        for name, started in self._started.items():
            if name in self._ended:
                continue
            requests = self._traffic_of(name).requests
            since, requests_then = self._said.get(name, (started, 0))
            self._said[name] = (now, requests)
            per_second = (requests - requests_then) / (now - since) if now > since else 0.0
            records = self.records[name]
            lines.append(f"{name}: {records:,} record{'' if records == 1 else 's'}{self._partitions_said(name)}, {per_second:.1f} requests/s")
        return lines

    def figures(self) -> List[TableFigures]:
        """Every selected table's figures, in the catalog's order, then those of requests asked under other names
        (the key's own account, Stripe's time from the events list when that table is not selected)."""
        now = self._clock()
        others = sorted(name for name, traffic in self._traffic.items() if name not in self.records and traffic.requests)
        names = [*self.records, *others]
        figures = []
        for name in names:
            traffic, started = self._traffic_of(name), self._started.get(name)
            seconds = None if started is None else self._ended.get(name, now) - started
            figures.append(TableFigures(name, self.records.get(name, 0), traffic.requests, traffic.retries, traffic.rate_limited, seconds))
        return figures

    def seconds(self) -> float:
        """Since the sync began."""
        return self._clock() - self._began

    def _traffic_of(self, name: str) -> TableTraffic:
        return self._traffic.get(name) or TableTraffic()

    def _partitions_said(self, name: str) -> str:
        partitions = self._partitions.get(name)
        if partitions is None:
            return ""
        done, known, created = partitions()
        said = f", {done} of {known} slices done" if known else ""
        if created is not None:
            said += f", all created before {datetime.fromtimestamp(created, timezone.utc):%Y-%m-%dT%H:%M:%SZ} read"
        return said


class Heartbeat:
    """Puts `beat` on the read loop's queue every `every` seconds until stopped, from a thread of its own once started,
    so the read loop wakes to say progress even while no partition sends anything. `stopped` is what it waits on."""

    def __init__(self, queue: "Queue[Any]", every: float = PROGRESS_EVERY_SECONDS, stopped: Optional[threading.Event] = None) -> None:
        self.beat = AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.DEBUG, message="progress heartbeat"))
        self._queue, self._every = queue, every
        self._stopped = stopped or threading.Event()
        self._thread = threading.Thread(target=self.run, name="progress-heartbeat", daemon=True)

    def start(self) -> "Heartbeat":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()

    def run(self) -> None:
        while not self._stopped.wait(self._every):
            self._put_beat()

    def _put_beat(self) -> None:
        # A full queue is drained while the read goes on; once it is over nothing takes from it any more.
        while not self._stopped.is_set():
            try:
                self._queue.put(self.beat, timeout=ROOM_WAIT_SECONDS)
                return
            except Full:
                continue


def logged(message: str) -> AirbyteMessage:
    return AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.INFO, message=message))
