#!/usr/bin/env bash
# The inside half of tests/support/systemd-sandbox.ts: turns PID 1 of fresh namespaces into systemd.
#
#   boot.sh pid1 DIR CGROUP_PROCS   run by `unshare --fork --pid --mount --mount-proc --uts --ipc`: moves
#                                   this process (and so everything it starts) into the sandbox's own
#                                   cgroup, then enters a cgroup namespace rooted there
#   boot.sh init DIR SYSTEMD        in that cgroup namespace: private /dev, /run, /etc/systemd, read-only
#                                   /proc/sys and /sys, a pure cgroup2 view; then exec systemd
#
# DIR is the sandbox state directory prepared by systemd-sandbox.ts (run/, dev/, etc-systemd/).
set -euo pipefail

self=${BASH_SOURCE[0]}

mount_private_dev() {
  local dev=$1
  mount -n -t tmpfs -o mode=755,nosuid,size=4m tmpfs "$dev"
  mknod -m 666 "$dev/null" c 1 3
  mknod -m 666 "$dev/zero" c 1 5
  mknod -m 666 "$dev/full" c 1 7
  mknod -m 666 "$dev/random" c 1 8
  mknod -m 666 "$dev/urandom" c 1 9
  mknod -m 666 "$dev/tty" c 5 0
  mkdir -m 755 "$dev/pts"
  mkdir -m 1777 "$dev/shm"
  mount -n -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$dev/pts"
  ln -s pts/ptmx "$dev/ptmx"
  mount -n -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$dev/shm"
  ln -s /proc/self/fd "$dev/fd"
  ln -s /proc/self/fd/0 "$dev/stdin"
  ln -s /proc/self/fd/1 "$dev/stdout"
  ln -s /proc/self/fd/2 "$dev/stderr"
  # No terminal: the console is a sink; systemd's own log goes to the sandbox's journal.
  touch "$dev/console"
  mount -n --bind /dev/null "$dev/console"
  mount -n --move "$dev" /dev
}

case ${1:-} in
  pid1)
    echo $$ >"$3"
    exec unshare --cgroup -- bash "$self" init "$2" "$4"
    ;;
  init)
    dir=$2
    systemd=$3
    # sysctls are global: systemd as PID 1 would otherwise set fs.nr_open, core_pattern, ... on the host.
    mount -n --bind /proc/sys /proc/sys
    mount -n -o remount,bind,ro,nosuid,nodev,noexec /proc/sys
    if [[ -e /proc/sysrq-trigger ]]; then
      mount -n --bind /proc/sysrq-trigger /proc/sysrq-trigger
      mount -n -o remount,bind,ro /proc/sysrq-trigger
    fi
    mount -n -o remount,bind,ro /sys
    # Rooted at the sandbox's cgroup (the cgroup namespace); hides the host's v1 hierarchies.
    mount -n -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
    mount_private_dev "$dir/dev"
    mount -n --bind "$dir/etc-systemd" /etc/systemd
    # Last: when DIR lives under /run, this hides it inside the sandbox.
    mount -n --bind "$dir/run" /run
    # container= tells systemd not to remount filesystems read-only at shutdown: they are the host's.
    # The unit path holds only private directories and an allow-list of vendor units, so no host unit
    # (and no systemd-tmpfiles, which would clean the shared /tmp) can start; no generators run.
    exec env -i \
      container=restartd-test \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      LANG=C.UTF-8 \
      SYSTEMD_UNIT_PATH=/etc/systemd/system.control:/run/systemd/system.control:/run/systemd/transient:/etc/systemd/system:/run/systemd/system:/etc/systemd/sandbox-units \
      SYSTEMD_GENERATOR_PATH=/etc/systemd/sandbox-empty \
      SYSTEMD_ENVIRONMENT_GENERATOR_PATH=/etc/systemd/sandbox-empty \
      "$systemd" --system --unit=multi-user.target --show-status=no --log-level=info
    ;;
  *)
    echo "usage: boot.sh pid1 DIR CGROUP_PROCS SYSTEMD | init DIR SYSTEMD" >&2
    exit 2
    ;;
esac
