"""`python -S bench/own_usage.py REPORT CMD...`: run CMD, then write its own usage to REPORT.

Linux carries a process's peak RSS across exec, so a child spawned straight from a benchmark
reports the benchmark's own peak when that is higher (a parent holding 300 MB made `python -c
pass` report 311 MB). Spawned from this small process instead, CMD's peak is its own. Writes
CMD's wall time, CPU time and peak RSS as JSON and exits with CMD's code. Standard library only,
so it starts without site-packages (-S).
"""

import json
import os
import subprocess
import sys
import time


def main() -> None:
    report, cmd = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd)  # standard streams inherited
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    with open(report, "w") as handle:
        json.dump(
            {
                "wall_s": wall,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "peak_rss_mb": usage.ru_maxrss / 1024,
            },
            handle,
        )
    code = os.waitstatus_to_exitcode(status)
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
