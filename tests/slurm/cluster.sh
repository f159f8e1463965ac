#!/usr/bin/env bash
# A real single-node SLURM cluster on localhost (munged, slurmctld, slurmd), as root.
#   tests/slurm/cluster.sh install   Debian packages (slurmctld slurmd slurm-client munge)
#   tests/slurm/cluster.sh start     write /etc/slurm/slurm.conf, start the daemons, wait for idle
#   tests/slurm/cluster.sh stop      stop the daemons by their pids
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

do_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -q
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
    slurmctld slurmd slurm-client munge
}

do_start() {
  local node cpus mem
  node=$(hostname -s)
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo) - 512 ))
  [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge
  # a munged left by a run killed before its stop still answers: use it
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 || runuser -u munge -- /usr/sbin/munged
  munge -n | unmunge >/dev/null
  install -d -o slurm -g slurm /var/spool/slurmctld /var/log/slurm
  install -d /var/spool/slurmd /etc/slurm
  rm -f /run/slurmctld.pid /run/slurmd.pid
  sed -e "s/@NODE@/$node/g" -e "s/@CPUS@/$cpus/g" -e "s/@MEM@/$mem/g" \
    "$here/slurm.conf.in" > /etc/slurm/slurm.conf
  /usr/sbin/slurmctld -c
  /usr/sbin/slurmd
  for _ in $(seq 1 60); do
    sinfo -h -o '%T' 2>/dev/null | grep -qx idle && return 0
    sleep 0.5
  done
  tail -n 30 /var/log/slurm/*.log >&2
  return 1
}

do_stop() {
  local f p
  for f in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
    p=$(cat "$f" 2>/dev/null) || continue
    kill "$p" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
    rm -f "$f"  # slurmctld cannot delete its own pidfile; a stale one breaks apt purge
  done
}

# Functions are prefixed: a function named `install` would shadow coreutils' install.
case "${1:-}" in
  install|start|stop) "do_$1" ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
