#!/bin/sh
# A long-running shell program that handles updates itself: it registers with restartd for a SIGHUP
# (a signal-only registration: no socket, no answer) and re-reads its config when it gets one.
# Any program can write this file; restartd checks it is owned by this process's user (or root),
# is not a link, sits in a dir only its owner can write, and that pid + start time still match.
set -eu

name=reload-on-hup
if [ "$(id -u)" -eq 0 ]; then default_dir=/run/restartd/aware.d; else default_dir="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/restartd/aware.d"; fi
dir="${RESTARTD_AWARE_DIR:-$default_dir}"
config="${APP_CONFIG:-/etc/reload-on-hup.conf}"

# Field 22 of /proc/$$/stat (start time). comm (field 2) may hold spaces: cut after the last ") ".
stat=$(cat /proc/$$/stat)
set -- ${stat##*) }
start_time=${20}

umask 022
mkdir -p -m 0755 "$dir"
file="$dir/$name.$$.json"
# Write then rename: restartd never sees half a registration.
printf '{"version":1,"name":"%s","pid":%s,"startTime":%s,"notify":{"kind":"signal","signal":"SIGHUP"},"fallback":"none"}\n' \
  "$name" "$$" "$start_time" > "$dir/.$name.$$.tmp"
mv -f "$dir/.$name.$$.tmp" "$file"

load() { echo "loaded config: $(cat "$config" 2>/dev/null || echo '(none)')"; }
trap 'load' HUP
trap 'rm -f "$file"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

load
echo "registered $file"
# sleep in the background and wait: a trap runs as soon as the signal comes, not after the sleep.
while :; do
  sleep 1 &
  wait $! || true
done
