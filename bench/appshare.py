"""appshare.py: application-sharing setups through sharewayd, end to end.

Drives the tests' own neighbours (tests/harness, the relay call of
tests/appshare/e2e.py: real SIP, RFC 6062 TURN, RFC 4571-framed MS-ICE2
checks) against a running sharewayd:

  seq N          N calls one after the other; a setup is INVITE -> 200 ->
                 Edge relay connection -> checks both ways -> completion
                 re-INVITE received by the conference; then BYE.
  concurrent K   K such calls set up at once (K <= 12: the port layout of
                 e2e.py) and held while sharewayd's RSS and fds are read.

Prints one "RESULT mode=... key=value ..." line per mode; sharewayd's CPU
comes from /proc/PID/task/*/schedstat. bench/appshare.sh runs it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(SRC, "tests"), os.path.join(SRC, "tests", "appshare")]

from e2e import Env, media, relay_call  # noqa: E402
from harness.scenario import in_thread  # noqa: E402
from harness.timeline import Timeline  # noqa: E402

MAX_PARALLEL = 12


def cpu_s(pid: int) -> float:
    """CPU seconds of every live thread of pid (schedstat, ns)."""
    total = 0
    task = f"/proc/{pid}/task"
    for tid in os.listdir(task):
        try:
            with open(f"{task}/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total / 1e9


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def nfds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def pctl(v: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(v)
    return s[max(0, min(len(s) - 1, int(p * len(s) + 0.999999) - 1))]


def setup(env: Env, idx: int):
    """One relay call up to the completion re-INVITE; (edge, conf, seconds)."""
    t0 = time.monotonic()
    edge, conf, final = relay_call(env, Timeline(), idx, 0)
    try:
        if final.status != 200:
            raise AssertionError(f"call {idx}: INVITE answered {final.status}")
        media(edge, conf, 0)
        if conf.ua.wait_reinvite(conf.invite.dialog, 10) is None:
            raise AssertionError(f"call {idx}: no completion re-INVITE")
    except BaseException:
        edge.close()
        conf.close()
        raise
    return edge, conf, time.monotonic() - t0


def hangup(edge, conf) -> None:
    try:
        resp = edge.hangup(5)
        if resp.status != 200:
            raise AssertionError(f"BYE answered {resp.status}")
    finally:
        edge.close()
        conf.close()


def run_seq(env: Env, n: int, pid: int) -> None:
    lat = []
    c0, t0 = cpu_s(pid), time.monotonic()
    for i in range(n):
        edge, conf, t = setup(env, i % MAX_PARALLEL)
        hangup(edge, conf)
        lat.append(t)
    wall, cpu = time.monotonic() - t0, cpu_s(pid) - c0
    print(f"RESULT mode=seq n={n} calls_per_s={n / wall:.1f} "
          f"p50_ms={pctl(lat, 0.5) * 1e3:.1f} p99_ms={pctl(lat, 0.99) * 1e3:.1f} "
          f"server_cpu_ms_per_call={cpu * 1e3 / n:.2f}", flush=True)


def run_concurrent(env: Env, k: int, pid: int) -> None:
    rss0, fds0, c0 = rss_kb(pid), nfds(pid), cpu_s(pid)
    t0 = time.monotonic()
    tasks = [in_thread(setup, env, i) for i in range(k)]
    calls, errors = [], []
    for t in tasks:
        try:
            calls.append(t.result(90))
        except Exception as e:  # reported, the others still hung up
            errors.append(str(e))
    wall = time.monotonic() - t0
    time.sleep(0.3)
    rss1, fds1, cpu = rss_kb(pid), nfds(pid), cpu_s(pid) - c0
    for edge, conf, _ in calls:
        hangup(edge, conf)
    slowest = max((t for _, _, t in calls), default=0)
    print(f"RESULT mode=concurrent asked={k} held={len(calls)} wall_s={wall:.2f} "
          f"slowest_ms={slowest * 1e3:.0f} rss_kb_before={rss0} rss_kb_after={rss1} "
          f"fds_before={fds0} fds_after={fds1} server_cpu_ms={cpu * 1e3:.0f}", flush=True)
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    if errors:
        raise SystemExit(1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sip", type=int, required=True)
    ap.add_argument("--turn", type=int, required=True)
    ap.add_argument("--port-base", type=int, required=True)
    ap.add_argument("--shareway", required=True)
    ap.add_argument("--conf", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("mode", choices=("seq", "concurrent"))
    ap.add_argument("count", type=int)
    a = ap.parse_args()
    env = Env(a)
    if a.mode == "seq":
        run_seq(env, a.count, a.pid)
    else:
        run_concurrent(env, min(a.count, MAX_PARALLEL), a.pid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
