"""Print the state the next `read --state` starts from: the last STATE message of each table a sync's output holds.

This is what Airbyte itself passes from one sync to the next; with only the venv (no `jq`):

    .venv/bin/python scripts/state_for_next_sync.py first_sync.jsonl > state.json

It also says on stderr how many records the sync read, so a second, incremental sync shows how little it read.
"""

import argparse
import json
import sys
from typing import Any, Dict, Iterable, List, Tuple


def last_states(lines: Iterable[str]) -> Tuple[List[Dict[str, Any]], int]:
    """The last state of each table, in the order the tables first saved one, and the records read."""
    states: Dict[str, Dict[str, Any]] = {}
    records = 0
    for line in lines:
        message = json.loads(line)
        if message["type"] == "RECORD":
            records += 1
        elif message["type"] == "STATE":
            states[message["state"]["stream"]["stream_descriptor"]["name"]] = message["state"]
    return list(states.values()), records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sync_output", type=argparse.FileType(encoding="utf-8"), help="what `source-stripe read` printed")
    args = parser.parse_args()
    with args.sync_output as output:
        try:
            states, records = last_states(output)
        except (json.JSONDecodeError, KeyError, TypeError):
            print(f"{output.name} is not what `source-stripe read` prints (one Airbyte message a line)", file=sys.stderr)
            return 2
    print(json.dumps(states, indent=2))
    print(f"{output.name}: {records} records read; the state of {len(states)} tables printed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
