#!/usr/bin/env bash
# supervise.sh NAME PIDFILE -- COMMAND [ARGS...]
# Keeps COMMAND running where systemd does not: started by keadm in its own session, it restarts
# COMMAND whenever it exits (at once after a clean exit, e.g. cloudcore applying a changed
# configuration; with a growing pause after a failure) and stops it on SIGTERM. Its own pid is in
# PIDFILE, the current child's in PIDFILE.child. Output goes wherever keadm pointed it (the log).
set -u
name=$1
pidfile=$2
shift 2
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || { echo "supervise.sh: no command given" >&2; exit 2; }

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) [supervise] $name: $*"; }

child=0
stop() {
  trap - TERM INT
  if [ "$child" -gt 0 ] && kill -0 "$child" 2>/dev/null; then
    log "stopping (pid $child)"
    kill -TERM "$child" 2>/dev/null
    for _ in $(seq 1 250); do
      kill -0 "$child" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$child" 2>/dev/null; then
      log "still running after 25 s; killing it"
      kill -KILL "$child" 2>/dev/null
    fi
    wait "$child" 2>/dev/null
  fi
  rm -f "$pidfile" "$pidfile.child"
  log "stopped"
  exit 0
}
trap stop TERM INT

mkdir -p "$(dirname "$pidfile")"
echo $$ >"$pidfile.tmp" && mv -f "$pidfile.tmp" "$pidfile"

delay=1
while true; do
  started=$(date +%s)
  "$@" </dev/null &
  child=$!
  echo "$child" >"$pidfile.child"
  log "started (pid $child): $*"
  wait "$child"
  rc=$?
  ran=$(($(date +%s) - started))
  child=0
  if [ "$ran" -ge 60 ]; then
    delay=1
  fi
  if [ "$rc" -eq 0 ]; then
    log "exited cleanly after ${ran}s; starting it again"
    pause=1
  else
    log "exited with status $rc after ${ran}s; restarting in ${delay}s"
    pause=$delay
    delay=$((delay * 2 > 30 ? 30 : delay * 2))
  fi
  sleep "$pause" &
  wait $!
done
