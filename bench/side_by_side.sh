#!/bin/bash
# side_by_side.sh -- the same workload against Ganeti 3.0 (the "anchor") and
# against this project, with the ratios, written to bench/RESULTS.md.
#
#   sudo bench/side_by_side.sh                       # full run (BENCH_SIZES="100 500")
#   sudo BENCH_SIZES="50 100" BENCH_N_SEQ=50 bench/side_by_side.sh        # short run
#   sudo BENCH_SIZES="5 8" BENCH_N_SEQ=3 BENCH_JOBS=5 BENCH_REPS=2 \
#        BENCH_VERIFY_REPS=1 BENCH_N_RM_SEQ=2 bench/side_by_side.sh        # smoke run
#
# The workload is /work/shared/anchor/bench-cluster.sh (read-only, used by
# path); every BENCH_* variable in the environment is passed to both runs, so
# both see the same sizes.  The targets:
#
#   anchor  Ganeti 3.0.2 from Debian's packages, single node, in the network
#           namespace gntanchor (ganeti-anchor-up.sh / ganeti-anchor-down.sh).
#   ours    a local cluster of this project (tools/local-cluster up), one node
#           by default (SIDE_NODES) for parity with the anchor's single node,
#           fake hypervisor, Debian's ganeti-os-noop "noop" OS copied into the
#           node's OS search path, RAPI on https://<node address>:5080.
#
# Each target runs in a PID namespace of its own (unshare --pid --mount-proc)
# together with its bench-cluster.sh run, for two reasons: bench-cluster.sh
# finds the server processes by name (RSS and server-CPU figures), and the
# daemons of the two implementations share names (ganeti-noded, ...), as do
# the daemons of any other cluster of this project on the machine (test
# clusters); in its own PID namespace a run sees only its own.  Leaving the
# namespace also ends whatever the run left behind.
#
# Environment (defaults in brackets):
#   SIDE_TARGETS      which targets, in this order                [anchor ours]
#   SIDE_OUT          the report                    [<repo>/bench/RESULTS.md]
#   SIDE_WORK         scratch directory (local cluster, raw outputs, logs)
#                                                        [/tmp/side-by-side]
#   SIDE_NODES        nodes of our local cluster                             [1]
#   SIDE_KEEP         1: keep SIDE_WORK afterwards (raw outputs, logs); it is
#                     kept anyway when a run fails or is cut short          [0]
#   ANCHOR_DIR        where the anchor scripts are       [/work/shared/anchor]
#   BENCH_*           passed to bench-cluster.sh for both targets (sizes,
#                     repetitions, ...); see its header.  BENCH_PROCS,
#                     BENCH_CONFIG_FILE, BENCH_CMD_PREFIX and BENCH_RAPI_URL
#                     are set per target (OURS_PROCS overrides ours).
#   OURS_PROCS        our server process names for RSS/CPU              [python3]
#   BENCH_VERIFY_ARGS is "-I ENODESETUP" for both unless set (the anchor's
#   kernel has no /proc/sysrq-trigger).
#
# 'side_by_side.sh --report' writes SIDE_OUT again from the raw outputs kept in
# SIDE_WORK (after a run with SIDE_KEEP=1), without running anything.
#
# Needs root, bash, util-linux (unshare), iproute2, curl, python3.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
ANCHOR_DIR=${ANCHOR_DIR:-/work/shared/anchor}
BENCH_SCRIPT="$ANCHOR_DIR/bench-cluster.sh"
SIDE_TARGETS=${SIDE_TARGETS:-anchor ours}
SIDE_OUT=${SIDE_OUT:-$REPO/bench/RESULTS.md}
SIDE_WORK=${SIDE_WORK:-/tmp/side-by-side}
SIDE_NODES=${SIDE_NODES:-1}
SIDE_KEEP=${SIDE_KEEP:-0}
# Same verify arguments for both: the anchor's kernel lacks /proc/sysrq-trigger.
export BENCH_VERIFY_ARGS=${BENCH_VERIFY_ARGS--I ENODESETUP}
# Debian's Ganeti must run with Debian's Python libraries: pip packages in
# /usr/local (a newer pyOpenSSL, without OpenSSL.crypto.X509Req) come first on
# /usr/bin/python3's path otherwise and break 'gnt-cluster init'.  And
# Debian's gnt-* are in /usr/sbin, behind this project's on the usual PATH.
ANCHOR_PATH=/usr/sbin:/usr/bin:/sbin:/bin
ANCHOR_PYTHONPATH=/usr/lib/python3/dist-packages
ANCHOR_NS=${GNT_NS:-gntanchor}

say() { echo "[side-by-side] $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# ------------------------------------------------------------------ anchor
anchor_running() { [ -e "/run/netns/$ANCHOR_NS" ]; }
anchor_up() {
  PATH=$ANCHOR_PATH PYTHONPATH=$ANCHOR_PYTHONPATH "$ANCHOR_DIR/ganeti-anchor-up.sh"
}
anchor_down() { PATH=$ANCHOR_PATH "$ANCHOR_DIR/ganeti-anchor-down.sh"; }

# phase_anchor OUT : (inside its PID namespace) anchor up, benchmark, down
phase_anchor() {
  local out=$1
  trap 'anchor_down >&2 || true' EXIT
  anchor_up >&2 || die "ganeti-anchor-up.sh failed"
  local others
  others=$(ip netns exec "$ANCHOR_NS" env PATH=$ANCHOR_PATH PYTHONPATH=$ANCHOR_PYTHONPATH \
             gnt-instance list --no-headers -o name | grep -v "^${BENCH_INST_PREFIX:-bench-}" || true)
  [ -z "$others" ] || say "WARNING: the anchor has other instances (counted in the sizes): $others"
  say "anchor: bench-cluster.sh"
  PATH=$ANCHOR_PATH PYTHONPATH=$ANCHOR_PYTHONPATH \
    BENCH_CMD_PREFIX="ip netns exec $ANCHOR_NS" \
    BENCH_RAPI_URL=https://127.0.0.1:5080 \
    BENCH_PROCS="ganeti-noded ganeti-confd ganeti-wconfd ganeti-luxid ganeti-rapi ganeti-mond ganeti-metad" \
    BENCH_CONFIG_FILE=/var/lib/ganeti/config.data \
    "$BENCH_SCRIPT" > "$out"
}

# ------------------------------------------------------------------ ours
OURS_DIR="$SIDE_WORK/local-cluster"
local_cluster() { python3 "$REPO/tools/local-cluster" "$@"; }

# phase_ours OUT : (inside its PID namespace) local cluster up, benchmark, down
phase_ours() {
  local out=$1
  [ -d /usr/share/ganeti/os/noop ] || \
    die "Debian's noop OS (/usr/share/ganeti/os/noop) is missing: apt-get install ganeti-os-noop"
  rm -rf "$OURS_DIR"
  trap 'local_cluster down --dir "$OURS_DIR" >&2 || true' EXIT
  local_cluster up -n "$SIDE_NODES" --dir "$OURS_DIR" >&2 || die "local-cluster up failed"
  local exports root
  exports=$(local_cluster env --dir "$OURS_DIR")
  eval "$exports"
  root=$GANETI_ROOTDIR
  # The same OS as the anchor's, in every node's OS search path.
  local os_dir
  for os_dir in $(cd "$REPO" && python3 -c '
import sys
from ganeti.tools.local_cluster import LocalCluster
print("\n".join(n.paths.os_search_path[0] for n in LocalCluster.load(sys.argv[1]).node_list()))
' "$OURS_DIR"); do
    mkdir -p "$os_dir"
    cp -r /usr/share/ganeti/os/noop "$os_dir/noop"
  done
  # The RAPI user of the anchor, with write access.
  local users="$root/var/lib/ganeti/rapi/users" master_ip
  mkdir -p "$(dirname "$users")"
  printf '%s %s write\n' "${BENCH_RAPI_USER:-bench}" "${BENCH_RAPI_PASS:-benchpass}" > "$users"
  gnt-cluster redist-conf >&2
  master_ip=$(cd "$REPO" && python3 -c \
    'from ganeti import netutils; print(netutils.lookup_ip(netutils.my_hostname()))')
  local url="https://$master_ip:5080" i
  for i in $(seq 1 40); do
    curl -sfk -o /dev/null -u "${BENCH_RAPI_USER:-bench}:${BENCH_RAPI_PASS:-benchpass}" \
      "$url/2/info" && break
    sleep 0.5
  done
  # Every command through a wrapper that sets what 'local-cluster env' prints
  # (baked in once: no per-command cost beyond one exec of sh).
  local wrapper="$SIDE_WORK/ours-env"
  { echo '#!/bin/sh'; echo "$exports"; echo 'exec "$@"'; } > "$wrapper"
  chmod 755 "$wrapper"
  say "ours: bench-cluster.sh (nodes: $SIDE_NODES, RAPI: $url)"
  # Every server process of this project is a python3 (noded, its zygote and
  # request children, confd, masterd, rapi, mond); in this PID namespace no
  # other python3 runs while bench-cluster.sh measures.
  BENCH_CMD_PREFIX="$wrapper" \
    BENCH_RAPI_URL=$url \
    BENCH_PROCS=${OURS_PROCS:-python3} \
    BENCH_CONFIG_FILE="$root/var/lib/ganeti/config.data" \
    "$BENCH_SCRIPT" > "$out"
}

# ------------------------------------------------------------------ report
write_report() {
  python3 - "$SIDE_OUT" "$SIDE_WORK" "$SIDE_TARGETS" <<'EOF'
import datetime, os, platform, sys

out, work, targets = sys.argv[1], sys.argv[2], sys.argv[3].split()
names = {"anchor": "Ganeti 3.0", "ours": "this project"}

def read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""

def metrics(text):
    found = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key and " " not in key and not line.startswith("|"):
            try:
                found[key] = float(value)
            except ValueError:
                pass
    return found

raw = {t: read(os.path.join(work, t + ".out")) for t in targets}
meta = {t: read(os.path.join(work, t + ".meta")).strip() for t in targets}
vals = {t: metrics(raw[t]) for t in targets}
anchor, ours = vals.get("anchor", {}), vals.get("ours", {})

HIGHER_IS_BETTER = ("_per_s",)
NO_RATIO = ("_failed", "command_failures")

def advantage(key):
    """How many times better this project is (>1: better), or None."""
    if key not in anchor or key not in ours or key.endswith(NO_RATIO):
        return None
    if key.startswith("config_kib") or key == "prefix_overhead_s":
        return None
    a, o = anchor[key], ours[key]
    if key.endswith(HIGHER_IS_BETTER):
        return o / a if a > 0 else None
    return a / o if o > 0 else None

def fmt(x):
    if x is None:
        return "–"
    return ("%.3f" % x).rstrip("0").rstrip(".") if abs(x) < 1000 else "%.0f" % x

def ratio(x):
    return "–" if x is None else ("%.1f×" % x if x >= 1 else "%.2f×" % x)

keys = list(anchor)
keys += [k for k in ours if k not in anchor]
sizes = sorted({int(k.rsplit("_at", 1)[1].split("_")[0]) for k in keys
                if "_at" in k and k.rsplit("_at", 1)[1].split("_")[0].isdigit()})

lines = ["# Side by side: Ganeti 3.0 and this project", ""]
lines.append("Written by `bench/side_by_side.sh` (workload: "
             "`/work/shared/anchor/bench-cluster.sh`) on %s."
             % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
lines.append("")
mem_kib = next((int(l.split()[1]) for l in read("/proc/meminfo").splitlines()
                if l.startswith("MemTotal")), 0)
lines.append("- machine: %s, %d cores, %d MiB RAM, kernel %s"
             % (platform.node(), os.cpu_count() or 0, mem_kib // 1024, platform.release()))
# The BENCH_* settings of the run, saved with its outputs.
bench_env = [l for l in read(os.path.join(work, "settings")).splitlines() if l]
lines.append("- sizes and settings: %s (the rest: bench-cluster.sh defaults)"
             % (", ".join("`%s`" % l for l in bench_env) or "defaults"))
for t in targets:
    if meta[t]:
        lines.append("- %s: %s" % (names[t], meta[t]))
lines.append("- Ganeti 3.0: Debian 12's 3.0.2 packages, one node, fake hypervisor, in the "
             "network namespace `gntanchor`; this project: `tools/local-cluster`, one node "
             "(parity with the anchor), fake hypervisor. Same OS (`noop`), same commands.")
lines.append("- ratio: how many times better this project is (Ganeti's time / ours; "
             "for `_per_s`, ours / Ganeti's; for RSS and CPU, Ganeti's / ours). "
             "Above 1: this project is better.")
lines.append("")

def aim(title, key, target):
    got = advantage(key)
    verdict = "not measured" if got is None else "met" if got >= target else "**not met**"
    return "| %s | `%s` | %s | %s | ≥ %g× | %s | %s |" % (
        title, key, fmt(anchor.get(key)), fmt(ours.get(key)), target, ratio(got), verdict)

biggest = sizes[-1] if sizes else None
# The parallel creates up to the largest size: the most of them.
par_key = ([k for k in keys if k.startswith("add_par_to") and k.endswith("_per_s")]
           or ["add_par_toN_per_s"])[-1]
rapi_key = "rapi_bulk_at500_s" if 500 in sizes else "rapi_bulk_at%s_s" % biggest
lines += ["## Aims", "",
          "| aim | metric | Ganeti 3.0 | this project | wanted | ratio | |",
          "|---|---|---|---|---|---|---|",
          aim("instance create (blocking, one by one)", "add_seq_s", 20),
          aim("instance create (parallel, submitted)", par_key, 20),
          aim("trivial job (submit and wait)", "job_delay_wait_s", 100),
          aim("trivial jobs (throughput)", "jobs_per_s", 100),
          aim("RAPI bulk instance list (≤ 1/3 of Ganeti's time)%s"
              % ("" if 500 in sizes else " — at %s, not 500" % biggest), rapi_key, 3),
          ""]

# RSS per process: the two implementations have different processes; only
# the totals are compared row by row.
def per_process(key):
    return key.startswith("rss_") and not key.endswith("_total_mib")

lines += ["## All metrics", "",
          "| metric | Ganeti 3.0 | this project | ratio |", "|---|---|---|---|"]
for key in (k for k in keys if not per_process(k)):
    lines.append("| `%s` | %s | %s | %s |" % (key, fmt(anchor.get(key)), fmt(ours.get(key)),
                                             ratio(advantage(key))))
lines.append("")
lines.append("Times in seconds, `_per_s` operations per second, `_mib` RSS in MiB, "
             "`_cpu_ms` server CPU per operation (see the anchor's README for each metric). "
             "Waiting for submitted jobs polls `gnt-job list` every BENCH_POLL_S (1 s), so "
             "small `_total_s` figures carry up to a second of polling on both sides.")
lines.append("")
lines += ["## RSS by process (MiB)", "",
          "This project's server processes are all `python3` (noded, its zygote, confd, "
          "masterd, rapi); each run has its own PID namespace, so nothing else is counted.", "",
          "| stage | Ganeti 3.0 | this project |", "|---|---|---|"]
for stage in ("idle", "at_max", "after"):
    cells = []
    for found in (anchor, ours):
        prefix = "rss_%s_" % stage
        cells.append(", ".join("%s %s" % (k[len(prefix):-len("_mib")], fmt(v))
                               for k, v in found.items()
                               if k.startswith(prefix) and k.endswith("_mib")
                               and not k.endswith("_total_mib")) or "–")
    lines.append("| %s | %s | %s |" % (stage, cells[0], cells[1]))
lines.append("")
lines += ["## Notes", "",
          "- Each implementation runs with its `bench-cluster.sh` in a PID namespace of its "
          "own (`unshare --pid`), so the RSS and server-CPU figures count only its own "
          "daemons (the names overlap: `ganeti-noded`, `ganeti-rapi`, ... and other local "
          "clusters of this project may run on the machine).",
          "- Every CLI figure includes the start-up of the `gnt-*` process (Python on both "
          "sides), which bounds the ratios of single commands; the server CPU "
          "(`_cpu_ms`) shows the daemons' own cost.",
          "- The trivial-job and create aims: the workload submits every job with a "
          "`gnt-*` process of its own (a shell loop), so on both sides those rates are "
          "bounded by the client's start-up, not by the job queue. The daemons' own cost "
          "per operation is `jobs_cpu_ms`, `add_seq_cpu_ms` and `add_par_to*_cpu_ms`; "
          "`bench/jobs.py` measures the queue over luxi without a process per job.",
          "- The load average during each run is given above: figures taken while other "
          "work ran on the machine are indicative only.", ""]
for t in targets:
    lines += ["<details><summary>raw output: %s</summary>" % names[t], "", "```",
              raw[t].rstrip() or "(no output: the run failed; see its log)", "```", "",
              "</details>", ""]
with open(out, "w") as handle:
    handle.write("\n".join(lines))
EOF
}

# ------------------------------------------------------------------ main
# A signal ends the script through its EXIT trap, which tears down what it
# started (a phase runs as PID 1 of its namespace: signals without a trap
# would not even reach it).
trap 'exit 130' INT
trap 'exit 143' TERM
case "${1:-}" in
  --phase)  # internal: one target, inside its own PID namespace
    shift
    case "$1" in
      anchor) phase_anchor "$2" ;;
      ours) phase_ours "$2" ;;
      *) die "unknown phase $1" ;;
    esac
    exit 0 ;;
  --report)  # write SIDE_OUT again from the raw outputs kept in SIDE_WORK
    write_report; say "wrote $SIDE_OUT"; exit 0 ;;
  "") ;;
  *) die "usage: $0 [--report]   (settings come from the environment; see the header)" ;;
esac

[ "$(id -u)" = 0 ] || die "run as root (the anchor, namespaces and cgroups need it)"
[ -x "$BENCH_SCRIPT" ] || die "$BENCH_SCRIPT not found (ANCHOR_DIR=$ANCHOR_DIR)"
for t in $SIDE_TARGETS; do
  case "$t" in anchor|ours) ;; *) die "SIDE_TARGETS: unknown target '$t' (anchor, ours)" ;; esac
done
mkdir -p "$SIDE_WORK"
WAS_UP=0
if [[ " $SIDE_TARGETS " == *" anchor "* ]] && anchor_running; then
  # It must run inside our PID namespace: stop it now, bring it back after.
  WAS_UP=1
  say "the anchor is up: stopping it for the run (it is brought back afterwards)"
  anchor_down >&2
fi
FAILED=0 DONE=0
finish() {
  if [ "$WAS_UP" = 1 ]; then
    say "bringing the anchor back up"
    anchor_up >/dev/null 2>&1 || say "ganeti-anchor-up.sh failed"
  fi
  if [ "$SIDE_KEEP" = 1 ] || [ "$FAILED" = 1 ] || [ "$DONE" = 0 ]; then
    say "kept $SIDE_WORK (raw outputs and logs)"
  else
    rm -rf "$SIDE_WORK"
  fi
}
trap finish EXIT

env | grep '^BENCH_' | sort > "$SIDE_WORK/settings" || true
for t in $SIDE_TARGETS; do
  rm -f "$SIDE_WORK/$t.out"
  say "== $t (log: $SIDE_WORK/$t.log)"
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  start=$(date +%s)
  rc=0
  unshare --pid --fork --mount-proc "$SELF" --phase "$t" "$SIDE_WORK/$t.out" \
    > "$SIDE_WORK/$t.log" 2>&1 || rc=$?
  echo "load average $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after;" \
       "run took $(( $(date +%s) - start )) s; exit status $rc" > "$SIDE_WORK/$t.meta"
  if [ "$rc" != 0 ]; then
    FAILED=1
    say "$t failed (exit $rc); last lines of its log:"
    tail -20 "$SIDE_WORK/$t.log" >&2
  fi
  # Failed workload commands are counted in command_failures (and named in the
  # log as "(failed: ...)"); failed jobs in the *_failed metrics.
  if grep -Eq '^(command_failures|[a-z_0-9]*_failed)=[1-9]' "$SIDE_WORK/$t.out"; then
    FAILED=1
    say "$t: some benchmark commands or jobs failed:"
    grep -E '^(command_failures|[a-z_0-9]*_failed)=[1-9]' "$SIDE_WORK/$t.out" >&2
    grep -E 'failed' "$SIDE_WORK/$t.log" | head -20 >&2 || true
  fi
done
write_report
DONE=1
say "wrote $SIDE_OUT"
