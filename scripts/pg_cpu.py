#!/usr/bin/env python3
"""CPU seconds used so far by a PostgreSQL server: the postmaster, its live children and its exited children.

Usage: pg_cpu.py POSTMASTER_PID  (prints seconds). Read before and after a benchmark: on a shared machine the
difference, with the client's own CPU time, gives the cost per row independently of what else runs.
"""
import os, sys

tick = os.sysconf("SC_CLK_TCK")
root = int(sys.argv[1])


def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[1] is ppid; utime, stime, cutime, cstime are fields 14-17 of stat (11-14 here).
    return int(fields[1]), [int(x) for x in fields[11:15]]


total = sum(stat(root)[1])  # its own time plus its reaped children (exited backends)
for name in os.listdir("/proc"):
    if name.isdigit() and int(name) != root:
        try:
            ppid, times = stat(int(name))
        except (FileNotFoundError, ProcessLookupError):
            continue
        if ppid == root:
            total += times[0] + times[1]
print(total / tick)
