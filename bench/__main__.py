"""`.venv/bin/python -m bench <command> [options]`: run one benchmark, or `all` of them.

    engine      engine overhead in process (bench/engine.py)
    throughput  webhook vs floor over HTTP, async accept (bench/throughput.py)
    concurrency c64 and 1,000 clients, async accept, exact checks (bench/concurrency.py)
    drain       Celery workers draining queued runs (bench/drain.py)
    memory      a run passing ~100 MB of JSON; worker peak RSS (bench/memory.py)
    reads       a queued run's read: the ORM's against the prepared one (bench/reads.py)
    profile     where the webhook hot path spends its time (bench/profile.py)
    handoff     the group writer's hand-off: a store through its thread or in the caller
    cost        CPU instructions per request, under callgrind (bench/cost.py)
    all         the whole suite, each benchmark in its own process (bench/suite.py)

`<command> --help` lists each one's options.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "engine": "bench.engine",
    "throughput": "bench.throughput",
    "concurrency": "bench.concurrency",
    "drain": "bench.drain",
    "memory": "bench.memory",
    "reads": "bench.reads",
    "profile": "bench.profile",
    "handoff": "bench.handoff",
    "cost": "bench.cost",
    "all": "bench.suite",
}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.stderr.write(__doc__ or "")
        return 2
    module = importlib.import_module(COMMANDS[sys.argv[1]])
    module.main(sys.argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
