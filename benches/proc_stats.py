"""Runs a command once and appends `wall user sys maxrss_kib` to a file.

The command runs under GNU time (`/usr/bin/time -f %M`), which reports its peak RSS: a child forked
from Python would count Python's own pages in its peak RSS. Wall time is taken here around that
run and CPU time (user, sys) from wait4's rusage of GNU time, which includes the command it waited
for: both at microsecond rather than GNU time's 10 ms resolution. Both include GNU time's own
start-up (about 3 ms wall, 2 ms CPU here); scripts/bench measures it on /bin/true as a baseline.

    python3 benches/proc_stats.py FILE CMD [ARG...]

The command's output goes to this process's stdout/stderr; its exit status is passed on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

GNU_TIME = "/usr/bin/time"


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, command = sys.argv[1], sys.argv[2:]
    with tempfile.NamedTemporaryFile("r", encoding="utf-8", suffix=".rss") as rss:
        started = time.perf_counter()
        child = subprocess.Popen([GNU_TIME, "-f", "%M", "-o", rss.name, "--", *command])
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        # On failure GNU time writes "Command exited with non-zero status N" first.
        maxrss_kib = int(rss.read().split()[-1])
    with open(out, "a", encoding="utf-8") as f:
        f.write(f"{wall:.6f} {usage.ru_utime:.6f} {usage.ru_stime:.6f} {maxrss_kib}\n")
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
