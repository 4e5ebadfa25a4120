"""What a sync says while it reads (a progress line per table being read) and when it ends (one summary), measured on a
fake clock, and through real reads of mocked Stripe answers."""

import threading
from functools import partial
from queue import Queue
from types import SimpleNamespace

from airbyte_cdk.models import AirbyteStreamStatus, AirbyteStreamStatusTraceMessage, AirbyteTraceMessage, StreamDescriptor, TraceType
from airbyte_cdk.sources.message import InMemoryMessageRepository
from source_stripe import source as source_module
from source_stripe import transport
from source_stripe.accounts import Account, AccountPartition
from source_stripe.cursor import FullRefreshCursor
from source_stripe.partitions import EventWindow, PartitionPlan
from source_stripe.progress import Heartbeat, SyncProgress
from source_stripe.summary import summary
from source_stripe.transport import TableTraffic
from unit_tests.stripe_api import config, embedded_list, error_messages, missing_permission, objects, read, stripe_error, summary_rows

NOW = 1_790_000_000
JANUARY_2024 = 1_704_067_200
CUSTOMERS = objects("customer", 3, "cus")
RATE_LIMITED = "Too many requests hit the API too quickly."


class Clock:
    """Seconds that move only when a test moves them."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def stream_status(table: str, status: AirbyteStreamStatus) -> AirbyteTraceMessage:
    status_message = AirbyteStreamStatusTraceMessage(stream_descriptor=StreamDescriptor(name=table), status=status)
    return AirbyteTraceMessage(type=TraceType.STREAM_STATUS, emitted_at=0, stream_status=status_message)


def sent(traffic: TableTraffic, requests: int) -> None:
    for _ in range(requests):
        traffic.sent(rate_limited=False)


def test_a_table_being_read_says_its_records_slices_created_date_and_requests_per_second_since_its_last_line():
    clock, customers = Clock(), TableTraffic()
    progress = SyncProgress(["customers"], clock)
    progress.follow({"customers": customers}, {"customers": lambda: (3, 7, JANUARY_2024)})
    progress.saw(stream_status("customers", AirbyteStreamStatus.STARTED))

    progress.records["customers"] += 1_234
    sent(customers, 80)
    clock.now += 8
    first = progress.lines()
    sent(customers, 20)
    clock.now += 8
    second = progress.lines()

    assert first == ["customers: 1,234 records, 3 of 7 slices done, all created before 2024-01-01T00:00:00Z read, 10.0 requests/s"]
    assert second == ["customers: 1,234 records, 3 of 7 slices done, all created before 2024-01-01T00:00:00Z read, 2.5 requests/s"]


def test_a_table_that_waits_with_nothing_flowing_still_says_its_line():
    clock = Clock()
    progress = SyncProgress(["customers"], clock)
    progress.saw(stream_status("customers", AirbyteStreamStatus.STARTED))

    clock.now += 8
    first = progress.lines()
    clock.now += 8

    assert first == progress.lines() == ["customers: 0 records, 0.0 requests/s"]


def test_tables_not_yet_started_or_already_ended_say_nothing():
    clock = Clock()
    progress = SyncProgress(["customers", "refunds", "disputes"], clock)
    progress.follow({}, {"customers": lambda: (0, 1, None), "refunds": lambda: (1, 1, None)})
    progress.saw(stream_status("customers", AirbyteStreamStatus.STARTED))
    progress.saw(stream_status("refunds", AirbyteStreamStatus.STARTED))
    progress.saw(stream_status("refunds", AirbyteStreamStatus.COMPLETE))

    clock.now += 8

    assert progress.lines() == ["customers: 0 records, 0 of 1 slices done, 0.0 requests/s"]


class StoppedAfter:
    """A stop signal that comes after `waits` waits, each recorded instead of waited."""

    def __init__(self, waits: int) -> None:
        self.waited, self._left = [], waits

    def wait(self, seconds: float) -> bool:
        self.waited.append(seconds)
        self._left -= 1
        return self.is_set()

    def is_set(self) -> bool:
        return self._left < 0

    def set(self) -> None:
        self._left = -1


def test_the_heartbeat_wakes_the_read_loop_every_8_seconds_until_the_read_ends():
    queue, stopped = Queue(), StoppedAfter(waits=3)
    heartbeat = Heartbeat(queue, stopped=stopped)

    heartbeat.run()

    assert stopped.waited == [8, 8, 8, 8]
    assert [queue.get_nowait() for _ in range(queue.qsize())] == [heartbeat.beat] * 3


def test_the_summary_says_each_tables_records_requests_retries_429s_and_duration_and_their_totals():
    clock, customers, own_account = Clock(), TableTraffic(), TableTraffic()
    progress = SyncProgress(["customers", "refunds", "disputes"], clock)
    progress.follow({"customers": customers, "own_account": own_account}, {})
    customers.sent(rate_limited=True)
    customers.retried()
    sent(customers, 1)
    sent(own_account, 1)

    progress.saw(stream_status("customers", AirbyteStreamStatus.STARTED))
    clock.now += 2
    progress.saw(stream_status("refunds", AirbyteStreamStatus.STARTED))
    progress.records["customers"] += 1_500
    progress.records["refunds"] += 2
    clock.now += 10
    progress.saw(stream_status("customers", AirbyteStreamStatus.COMPLETE))
    clock.now += 0.5
    progress.saw(stream_status("refunds", AirbyteStreamStatus.INCOMPLETE))
    clock.now += 0.25

    assert summary(progress) == "\n".join(
        [
            "Sync summary:",
            "table        records  requests  retries  429s  duration",
            "customers      1,500         2        1     1    12.0 s",
            "refunds            2         0        0     0    10.5 s",
            "disputes           0         0        0     0         -",
            "own_account        0         1        0     0         -",
            "total          1,502         3        1     1    12.8 s",
        ]
    )


def test_the_summary_of_a_read_counts_what_happened_to_each_table(stripe):
    stripe.answers("customers", [stripe_error(429, RATE_LIMITED, "rate_limit"), {"status_code": 200, "json": embedded_list(CUSTOMERS)}])
    stripe.serves_list("refunds", objects("refund", 150, "re"))

    output = read(config(), "customers", "refunds")

    said = {table: (row["records"], row["requests"], row["retries"], row["429s"]) for table, row in summary_rows(output).items()}
    assert said == {
        "customers": ("3", "2", "1", "1"),
        "refunds": ("150", "2", "0", "0"),
        "own_account": ("0", "1", "0", "0"),
        "total": ("153", "5", "1", "1"),
    }


def test_a_sync_that_fails_still_closes_with_its_summary(stripe):
    stripe.serves_list("customers", CUSTOMERS)
    stripe.answers_error("disputes", 403, missing_permission("rak_dispute_read"))

    output = read(config(), "customers", "disputes", expect_failure=True)

    rows = summary_rows(output)
    assert (rows["customers"]["records"], rows["disputes"]["records"], rows["disputes"]["requests"]) == ("3", "0", "1")
    assert error_messages(output)[-1].startswith("The sync did not finish: disputes could not be read")


def test_a_table_whose_request_waits_out_a_long_retry_after_still_says_its_progress(stripe, monkeypatch):
    stripe.answers(
        "customers",
        [stripe_error(429, RATE_LIMITED, "rate_limit", **{"Retry-After": "60"}), {"status_code": 200, "json": embedded_list(CUSTOMERS)}],
    )
    customers_said = threading.Event()
    lines_of = SyncProgress.lines

    def lines(progress: SyncProgress) -> list:
        made = lines_of(progress)
        if any(line.startswith("customers: ") for line in made):
            customers_said.set()
        return made

    monkeypatch.setattr(SyncProgress, "lines", lines)
    monkeypatch.setattr(source_module, "Heartbeat", partial(Heartbeat, every=0.01))  # the same beat, without waiting 8 s
    # The Retry-After lasts until the connector has said customers' progress (the timeout only keeps a failure short).
    monkeypatch.setattr(transport, "sleep", lambda seconds: customers_said.wait(timeout=30) if seconds == 60 else None)

    output = read(config(), "customers")

    progress_lines = [log.log.message for log in output.logs if log.log.message.startswith("customers: ") and "records" in log.log.message]
    assert progress_lines and progress_lines[0].startswith("customers: 0 records, 0 of 1 slices done")


def plan_of_one_account(start: int) -> PartitionPlan:
    capture = SimpleNamespace(table=SimpleNamespace(name="customers"), objects_per_slice=100)
    return PartitionPlan(capture, start, None, [EventWindow(capture, NOW - 300, None)], [], changed=threading.Condition())


def test_a_plan_knows_its_partitions_done_of_those_known_and_how_far_created_is_read():
    plan = plan_of_one_account(start=NOW - 10_000)
    newest = plan.slices[0]
    assert plan.progress() == (0, 2, None)  # nothing read from the start yet

    plan.split_older_part(newest, seen=300, newest=NOW, oldest=NOW - 300)
    oldest = min(plan.slices, key=lambda piece: piece.start)
    plan.finish(oldest)

    assert plan.progress() == (1, len(plan.slices) + 1, oldest.end)
    assert len(plan.slices) > 2


def test_a_full_refresh_still_tells_its_plan_which_partitions_finished():
    plan, account = plan_of_one_account(start=NOW - 10_000), Account("acct_1Test", None)
    cursor = FullRefreshCursor("customers", InMemoryMessageRepository())
    cursor.follow({account.key: plan})

    cursor.close_partition(AccountPartition(plan.slices[0], account, accounts=None))

    done, known, _ = plan.progress()
    assert (done, known) == (1, 2)
