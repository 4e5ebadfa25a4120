"""Measures source-stripe against the local Stripe sandbox and prints each figure next to its target.

    python bench/sync_benchmark.py                      # every scenario below, on this machine
    python bench/sync_benchmark.py --only cpu memory    # some of them
    python bench/sync_benchmark.py --size 120000        # a larger dataset for the budget scenarios
    python bench/sync_benchmark.py --only budget-live --log read.log   # and what the connector logged

Scenarios (each a real `source-stripe read` of every table in a subprocess; the sandbox runs in another). Syncs are
incremental, as an Airbyte connection's first sync is; `--full-refresh` measures full-refresh reads instead:
- budget-live: Stripe-like latency (300 ± 100 ms), a live key at 100 requests/s: sustained requests/s, records/s,
  share of 429s, requests per 100 top-level objects, and the longest the connector's output stayed silent.
- budget-test: the same with a test key at 25 requests/s.
- budget-live-top-level: budget-live on the tables without a parent, whose pages hold 100 objects each (a child
  table costs a request per parent, whatever its size), on a dataset five times larger.
- budget-test-top-level: the same with a test key, on a dataset 2.5 times larger (a minute at 25 requests/s).
- cpu: no latency and no rate limit, neither at the sandbox nor in the connector (its hidden no_request_budget
  setting, which only a loopback api_base_url may use): records per CPU-second of the connector process itself
  (user + sys), stdout included, the median of 3 syncs. Then the same syncs at the connector's own live budget, as
  against Stripe: requests go a tenth of a second apart in groups, and waking up for each group costs
  CPU of its own. And unlimited again with the connector on one core: its threads take turns holding Python's GIL,
  and turns that move a thread from core to core cost CPU too (the connector does not pin itself: at Stripe's pace
  that gains nothing). cpu-top-level likewise on the tables without a parent.
- memory: peak RSS of the connector process from 10k to 1M records (zero latency, no rate limit).
- no-change: requests of an incremental sync right after a full one, for growing accounts.

Speed targets are printed, never asserted: the machine and its load decide the figures.
"""

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from integration_tests.connector_process import ALL_STREAMS, configured_catalog  # noqa: E402
from source_stripe.children import ParentStep  # noqa: E402
from source_stripe.planning import EVENTS_LISTED_LATE_MARGIN  # noqa: E402
from source_stripe.tables import manifest_tables  # noqa: E402
from source_stripe.transport import DEFAULT_REQUESTS_PER_SECOND  # noqa: E402
from stripe_sandbox import SandboxProcess, keys  # noqa: E402

PARENTS_OF_CHILDREN = {table.name: table.parent.table for table in manifest_tables() if not table.is_top_level}
TOP_LEVEL_TABLES = tuple(table.name for table in manifest_tables() if table.is_top_level)
RECORD_MARK = b'{"type":"RECORD"'
LOG_MARK = b'{"type":"LOG"'


@dataclass
class SyncFigures:
    seconds: float
    records: int
    requests: int
    rate_limited: int
    cpu_seconds: float
    peak_rss_mb: float
    final_state: List[Dict[str, Any]]
    sustained_requests_per_second: float
    sustained_records_per_second: float
    rss_mb_by_quarter: List[float]
    longest_silence_seconds: float  # the largest gap between two lines of the connector's stdout
    longest_log_silence_seconds: float  # the same between its LOG messages, which is what a user watching it sees

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds

    @property
    def records_per_cpu_second(self) -> float:
        return self.records / self.cpu_seconds


def run_sync(
    sandbox: SandboxProcess,
    config: Dict[str, Any],
    incremental: bool = False,
    state: Optional[list] = None,
    streams: Sequence[str] = ALL_STREAMS,
    one_core: bool = False,
    log: Optional[Path] = None,
) -> SyncFigures:
    """One `source-stripe read`; its stdout is counted, not parsed, so the benchmark costs the machine little. `log`:
    a file to append its LOG messages to, each after the seconds since the sync began."""
    with tempfile.TemporaryDirectory() as tmp:
        files = {"config": config, "catalog": configured_catalog(streams, incremental)}
        if state is not None:
            files["state"] = state
        args = [sys.executable, "-m", "source_stripe.run", "read"]
        for name, content in files.items():
            path = Path(tmp) / f"{name}.json"
            path.write_text(json.dumps(content))
            args += [f"--{name}", str(path)]
        sandbox.reset_stats()
        started = time.monotonic()
        on_one_core = (lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})) if one_core else None
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, preexec_fn=on_one_core)
        progress = Progress(sandbox, process.pid)
        states, tail, logged = {}, b"", []
        last_line = last_log = None
        longest_silence = longest_log_silence = 0.0
        for line in process.stdout:
            now = time.monotonic()
            if last_line is not None:
                longest_silence = max(longest_silence, now - last_line)
            last_line = now
            if line.startswith(RECORD_MARK):
                progress.records += 1
            elif line.startswith(LOG_MARK):
                if last_log is not None:
                    longest_log_silence = max(longest_log_silence, now - last_log)
                last_log = now
                if log is not None:
                    logged.append(f"+{now - started:6.1f} s  {json.loads(line)['log']['message']}\n")
            elif line.startswith(b'{"type":"STATE"'):
                message = json.loads(line)["state"]
                states[message["stream"]["stream_descriptor"]["name"]] = message
            elif b'"ERROR"' in line:
                tail = line
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
        progress.stop()
    if log is not None:
        with log.open("a") as file:
            file.writelines(logged)
    if status != 0:
        raise SystemExit(f"the sync failed: {tail[:2000].decode(errors='replace')}")
    stats = sandbox.stats()
    return SyncFigures(
        seconds=seconds,
        records=progress.records,
        requests=stats["total"],
        rate_limited=stats["rate_limited"],
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=progress.peak_rss_mb(),
        final_state=list(states.values()),
        sustained_requests_per_second=progress.sustained_rate(requests=True),
        sustained_records_per_second=progress.sustained_rate(requests=False),
        rss_mb_by_quarter=progress.rss_mb_by_quarter(),
        longest_silence_seconds=longest_silence,
        longest_log_silence_seconds=longest_log_silence,
    )


class Progress:
    """Samples requests (the sandbox's count) and records while a sync runs, to tell its steady rates from its start
    and its tail."""

    def __init__(self, sandbox: SandboxProcess, pid: int) -> None:
        self.records, self._peak_rss_mb = 0, 0.0
        self._sandbox, self._status, self._samples, self._stopped = sandbox, Path(f"/proc/{pid}/status"), [], threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stopped.wait(0.5):
            self._samples.append((time.monotonic(), self._sandbox.stats()["total"], self.records, self._memory_mb("VmRSS")))
            self._peak_rss_mb = max(self._peak_rss_mb, self._memory_mb("VmHWM"))

    def _memory_mb(self, field: str) -> float:
        """From /proc, not getrusage: a forked child's ru_maxrss counts its parent's memory from before exec."""
        try:
            line = next(line for line in self._status.read_text().splitlines() if line.startswith(f"{field}:"))
        except (OSError, StopIteration):
            return float("nan")
        return int(line.split()[1]) / 1024

    def peak_rss_mb(self) -> float:
        return self._peak_rss_mb

    def rss_mb_by_quarter(self) -> List[float]:
        """The process's resident memory when a quarter, half, three quarters and all of its records were out (for
        all: the last reading, when the process exits before the next one)."""
        total, readings = self.records, [(records, rss) for _, _, records, rss in self._samples if not math.isnan(rss)]
        last = readings[-1][1] if readings else float("nan")
        return [next((rss for records, rss in readings if records >= share * total), last) for share in (0.25, 0.5, 0.75, 1)]

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def sustained_rate(self, requests: bool) -> float:
        """Requests (or records) per second while the sync made its middle 80% of them."""
        counted = [(at, requests_made if requests else records) for at, requests_made, records, _ in self._samples]
        if len(counted) < 3:
            return float("nan")
        total = counted[-1][1]
        low = next(sample for sample in counted if sample[1] >= 0.1 * total)
        high = next(sample for sample in counted if sample[1] >= 0.9 * total)
        return (high[1] - low[1]) / max(high[0] - low[0], 1e-9)


def config_for(sandbox: SandboxProcess, mode: str) -> Dict[str, Any]:
    key = keys.SECRET_LIVE if mode == "live" else keys.SECRET_TEST
    return {"api_key": key, "environment": mode, "api_base_url": sandbox.url}


def top_level_objects(sandbox: SandboxProcess, mode: str) -> Dict[str, int]:
    truth = sandbox.truth(mode=mode)
    return {table: len(objects) for table, objects in truth.items()}


def request_floor(counts: Dict[str, int], truth_parents: int) -> int:
    """About one request per 100 top-level objects, plus one per parent that can have children."""
    top = sum(-(-n // 100) or 1 for table, n in counts.items() if table not in PARENTS_OF_CHILDREN)
    return top + truth_parents


def parents_with_children(sandbox: SandboxProcess, mode: str) -> int:
    """The parents a full read asks Stripe for their children: for each child table, as its entry says, those that
    embed only their first page, or those that may have any."""
    truth = sandbox.truth(mode=mode)
    asked = 0
    for table in manifest_tables():
        if table.parent is None:
            continue
        step, parents = ParentStep(table, http=None), truth[table.parent.table]
        if table.parent.embedded_in:
            asked += sum(1 for parent in parents if step.embeds_only_some(parent))
        else:
            asked += sum(1 for parent in parents if step.may_have_rows(parent))
    return asked


def say(figure: str, value: str, target: str) -> None:
    print(f"  {figure:<38} {value:>14}" + (f"   target {target}" if target else ""))


def budget(mode: str, size: int, incremental: bool, streams: Sequence[str] = ALL_STREAMS, log: Optional[Path] = None) -> None:
    ceiling = 100 if mode == "live" else 25
    with SandboxProcess(seed=1, size=size, latency_ms=300, latency_jitter_ms=100, **{f"rate_limit_{mode}": ceiling}) as sandbox:
        counts = {table: count for table, count in top_level_objects(sandbox, mode).items() if table in streams}
        floor = request_floor(counts, parents_with_children(sandbox, mode) if set(PARENTS_OF_CHILDREN) & set(streams) else 0)
        figures = run_sync(sandbox, config_for(sandbox, mode), incremental, streams=streams, log=log)
    which = f"all {len(ALL_STREAMS)} tables" if streams == ALL_STREAMS else f"the {len(streams)} tables without a parent"
    print(f"budget-{mode}, {which}: {figures.records} records, {figures.seconds:.1f} s, latency 300 ± 100 ms, {ceiling} requests/s allowed")
    say("requests/s sustained (middle 80%)", f"{figures.sustained_requests_per_second:.1f}", f">= {0.9 * ceiling:g}")
    say("requests/s over the whole sync", f"{figures.requests_per_second:.1f}", "")
    # A child table costs a request per parent however few children it has: the records/s target is for 100 a page.
    records_target = f">= {90 * ceiling:g}" if streams == TOP_LEVEL_TABLES else "(for the tables without a parent)"
    say("records/s sustained (middle 80%)", f"{figures.sustained_records_per_second:.0f}", records_target)
    say("records/s over the whole sync", f"{figures.records_per_second:.0f}", "")
    say("429 share of responses", f"{100 * figures.rate_limited / max(figures.requests, 1):.2f} %", "0 %")
    say("requests", f"{figures.requests}", f"about {floor} (1 per 100 top-level objects + 1 per parent with children)")
    say("longest silence of the connector's output", f"{figures.longest_silence_seconds:.1f} s", "<= 10 s")
    say("  of its LOG messages", f"{figures.longest_log_silence_seconds:.1f} s", "<= 10 s")


def cpu(size: int, incremental: bool, runs: int, streams: Sequence[str] = ALL_STREAMS) -> None:
    """This machine's CPU speed drifts by up to a quarter between runs (a shared virtual machine), so the figure is
    the median of several syncs of the same data."""
    with SandboxProcess(seed=2, size=size, rate_limit_live=0) as sandbox:
        unlimited_config = {**config_for(sandbox, "live"), "no_request_budget": True}
        unlimited = [run_sync(sandbox, unlimited_config, incremental, streams=streams) for _ in range(runs)]
        budgeted = [run_sync(sandbox, config_for(sandbox, "live"), incremental, streams=streams) for _ in range(runs)]
        one_core = [run_sync(sandbox, unlimited_config, incremental, streams=streams, one_core=True) for _ in range(runs)]
    which = f"all {len(ALL_STREAMS)} tables" if streams == ALL_STREAMS else f"the {len(streams)} tables without a parent"
    print(f"cpu, {which}: {unlimited[0].records} records, {unlimited[0].requests} requests, zero latency, {runs} syncs each")
    for figures, target, how in (
        (unlimited, ">= 10000", "no rate limit"),
        (budgeted, "", f"at {DEFAULT_REQUESTS_PER_SECOND['live']} requests/s"),
        (one_core, "", "no rate limit, on one core"),
    ):
        per_cpu_second = sorted(run.records_per_cpu_second for run in figures)
        say(f"records per CPU-second (user+sys), {how}, median", f"{statistics.median(per_cpu_second):.0f}", target)
        say("  each sync", ", ".join(f"{value:.0f}" for value in per_cpu_second), "")
        say("  CPU seconds, median", f"{statistics.median(run.cpu_seconds for run in figures):.1f}", "")


def memory(sizes: Sequence[int], incremental: bool) -> None:
    # The tables without a parent: 100 records a request, so a million records take minutes, not the better part of an
    # hour at the connector's own request budget.
    print("memory: peak RSS of the connector process, tables without a parent, zero latency, no rate limit")
    for size in sizes:
        with SandboxProcess(seed=3, size=size, rate_limit_live=0, startup_timeout=600) as sandbox:
            figures = run_sync(sandbox, config_for(sandbox, "live"), incremental, streams=TOP_LEVEL_TABLES)
        say(f"peak RSS at {figures.records} records", f"{figures.peak_rss_mb:.0f} MB", "< 300 MB, flat")
        print("    RSS at 1/4, 1/2, 3/4 and all records out: " + ", ".join(f"{rss:.0f} MB" for rss in figures.rss_mb_by_quarter))


def no_change(sizes: Sequence[int]) -> None:
    """Stripe sends no event when usage is reported, so syncs re-read the usage of running metered subscription items
    once the last such re-read is running_usage_refresh_hours old (12 by default), every sync with 0."""
    print("no-change: requests of an incremental sync right after a full one (clock moved one hour)")
    for refresh_hours in (None, 0):
        print(f"  running_usage_refresh_hours {'12 (default)' if refresh_hours is None else refresh_hours}")
        for size in sizes:
            with SandboxProcess(seed=4, size=size, rate_limit_live=0, startup_timeout=600) as sandbox:
                config = config_for(sandbox, "live")
                if refresh_hours is not None:
                    config["running_usage_refresh_hours"] = refresh_hours
                # The sandbox dates the last events of its history to its very last second, hundreds of them in a
                # large one; a sync replays the events of the margin before it (events can be listed late), so the
                # margin and a minute pass before the first sync.
                sandbox.advance_clock(EVENTS_LISTED_LATE_MARGIN + 60)
                first = run_sync(sandbox, config, incremental=True)
                sandbox.advance_clock(3600)
                second = run_sync(sandbox, config, incremental=True, state=first.final_state)
                by_path = {path: sum(counts.values()) for path, counts in sandbox.stats()["by_path"].items()}
            say(f"requests at {first.records} records", f"{second.requests}", "flat as the account grows" if refresh_hours is None else "")
            print("    " + ", ".join(f"{path.removeprefix('/v1/')}: {count}" for path, count in sorted(by_path.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--only",
        nargs="*",
        default=["budget-live", "budget-test", "budget-live-top-level", "budget-test-top-level", "cpu", "cpu-top-level", "memory", "no-change"],
    )
    parser.add_argument("--size", type=int, default=60_000, help="objects in the budget-live sandbox (x5 for top-level)")
    parser.add_argument("--cpu-size", type=int, default=100_000)
    parser.add_argument("--cpu-runs", type=int, default=3)
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[10_000, 100_000, 1_600_000])
    parser.add_argument("--no-change-sizes", type=int, nargs="*", default=[5_000, 50_000])
    parser.add_argument("--full-refresh", action="store_true", help="measure full-refresh reads instead")
    parser.add_argument("--log", type=Path, help="append the LOG messages of the budget scenarios' syncs to this file")
    args = parser.parse_args()
    incremental = not args.full_refresh
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}")
    print(f"sync mode: {'incremental (first sync)' if incremental else 'full refresh'}")
    scenarios = {
        "budget-live": lambda: budget("live", args.size, incremental, log=args.log),
        "budget-test": lambda: budget("test", args.size // 4, incremental, log=args.log),
        # Child tables cost a request per parent, so records/s is measured on the tables Stripe lists 100 at a time.
        "budget-live-top-level": lambda: budget("live", args.size * 5, incremental, TOP_LEVEL_TABLES, args.log),
        "budget-test-top-level": lambda: budget("test", args.size * 5 // 2, incremental, TOP_LEVEL_TABLES, args.log),
        "cpu": lambda: cpu(args.cpu_size, incremental, args.cpu_runs),
        "cpu-top-level": lambda: cpu(args.cpu_size * 3, incremental, args.cpu_runs, TOP_LEVEL_TABLES),
        "memory": lambda: memory(args.memory_sizes, incremental),
        "no-change": lambda: no_change(args.no_change_sizes),
    }
    for name in args.only:
        scenarios[name]()


if __name__ == "__main__":
    main()
