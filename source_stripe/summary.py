"""The one message that closes a sync, however it ends: per table its records, requests, retries, 429s and duration,
and their totals, as an aligned text table."""

from typing import List, Optional

from source_stripe.progress import SyncProgress, TableFigures

SUMMARY_TITLE = "Sync summary"
COLUMNS = ("records", "requests", "retries", "429s", "duration")


def summary(progress: SyncProgress) -> str:
    figures = progress.figures()
    total = TableFigures(
        "total",
        sum(table.records for table in figures),
        sum(table.requests for table in figures),
        sum(table.retries for table in figures),
        sum(table.rate_limited for table in figures),
        progress.seconds(),
    )
    rows = [["table", *COLUMNS]] + [_cells(table) for table in [*figures, total]]
    widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS) + 1)]
    lines = [f"{row[0]:<{widths[0]}}" + "".join(f"  {cell:>{width}}" for cell, width in zip(row[1:], widths[1:])) for row in rows]
    return "\n".join([f"{SUMMARY_TITLE}:", *lines])


def _cells(table: TableFigures) -> List[str]:
    return [table.name, f"{table.records:,}", f"{table.requests:,}", f"{table.retries:,}", f"{table.rate_limited:,}", _duration(table.seconds)]


def _duration(seconds: Optional[float]) -> str:
    return "-" if seconds is None else f"{seconds:.1f} s"
