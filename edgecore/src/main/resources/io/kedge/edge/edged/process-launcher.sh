# Starts one container of the process runtime. Runs as root, as PID 1 of a fresh PID and mount
# namespace (unshare --mount --propagation private --pid --fork --mount-proc), so that every mount
# below stays private to the container and vanishes with it.
#
# Usage: sh process-launcher.sh PLAN ERRFILE -- COMMAND...
# PLAN is a file of tab-separated steps written by ProcessRuntime:
#   cgroup PROCS           join the container's cgroup (its cgroup.procs file in one hierarchy);
#                          these come first, so that everything below is accounted and limited
#   root  DIR              the directory that becomes the container's root (a mirror of the host's)
#   mimic DIR [CHILD]      replace DIR in the mirror by a tmpfs holding the host's entries of DIR
#                          (only CHILD when given), so that new mount points can be made under it
#                          without touching the host
#   mkdir PATH             create a mount point in the mirror (under a mimicked directory)
#   bind  SRC PATH ro|rw   bind-mount SRC at PATH in the mirror
#   check UID GID DIR PATH CMD   fail unless CMD resolves to an executable for UID:GID in DIR
# Then COMMAND (setpriv ... env -i ... the container's command) runs chrooted in the mirror. The
# launcher stays as PID 1: it forwards SIGTERM/SIGINT to the container and exits with its status
# (128+N when the container died of signal N), which the runtime reports as the exit code.
# Failures before the command runs are written to ERRFILE; the launcher then exits 128.
set -u
# Asked to stop before the command runs: just go (PID 1 would otherwise ignore the signal).
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
plan=$1
errfile=$2
shift 3
# Signals sent before this point were ignored (PID 1 without handlers): tell the runtime that
# from now on SIGTERM counts.
: >"$errfile.signals"

fail() {
  printf '%s\n' "$*" >"$errfile"
  printf 'process runtime: %s\n' "$*" >&2
  exit 128
}

root=
stage=
mimic() {
  src=$1
  only=${2:-}
  dst=$root${src%/}
  [ -d "$src" ] || fail "cannot prepare $src: not a directory"
  tmp=$(mktemp -d "$stage/m.XXXXXX") || fail "cannot create a staging directory in $stage"
  mode=$(stat -c %a "$src") || mode=755
  # A filtered view reveals nothing but the one entry, so it may be traversable by anyone.
  [ -z "$only" ] || mode=755
  mount -t tmpfs -o "mode=$mode" kedge-mimic "$tmp" || fail "cannot mount tmpfs for $src"
  base=${src%/}
  for e in "$base"/* "$base"/.[!.]* "$base"/..?*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    name=${e##*/}
    if [ -n "$only" ] && [ "$name" != "$only" ]; then continue; fi
    if [ -L "$e" ]; then
      ln -s "$(readlink "$e")" "$tmp/$name" || fail "cannot mirror symlink $e"
    elif [ -d "$e" ]; then
      mkdir "$tmp/$name" && mount --rbind "$e" "$tmp/$name" || fail "cannot mirror $e"
    else
      : >"$tmp/$name" && mount --bind "$e" "$tmp/$name" || fail "cannot mirror $e"
    fi
  done
  mount --move "$tmp" "$dst" || fail "cannot place the mirror of $src"
}

tab=$(printf '\t')
while IFS="$tab" read -r op a b c d e; do
  case $op in
    cgroup)
      echo 0 >"$a" 2>/dev/null || fail "cannot join the container's cgroup ($a)"
      ;;
    root)
      root=$a
      stage=$a.stage
      mkdir -p "$root" "$stage" || fail "cannot create $root"
      ;;
    mimic)
      mimic "$a" "$b"
      ;;
    mkdir)
      mkdir -p "$root$a" || fail "cannot create mount point $a"
      ;;
    bind)
      if [ -d "$a" ]; then
        [ -d "$root$b" ] || mkdir -p "$root$b" || fail "cannot create mount point $b"
      else
        [ -e "$root$b" ] || : >"$root$b" || fail "cannot create mount point $b"
      fi
      mount --bind "$a" "$root$b" || fail "cannot mount $a at $b"
      if [ "$c" = ro ]; then
        mount -o remount,bind,ro "$root$b" || fail "cannot make $b read-only"
      fi
      ;;
    check)
      # The command must resolve in the container's view, as its user, with its PATH; otherwise
      # say so the way the kubelet does rather than leave an exit code to interpret.
      chroot "$root" setpriv --reuid="$a" --regid="$b" --clear-groups -- \
        env -i PATH="$d" /bin/sh -c '
          cd "$2" 2>/dev/null || exit 3
          c=$1
          case $c in
            */*) [ -f "$c" ] && [ -x "$c" ] ;;
            *) IFS=:
               for p in $PATH; do [ -f "${p:-.}/$c" ] && [ -x "${p:-.}/$c" ] && exit 0; done
               exit 1 ;;
          esac' sh "$e" "$c" </dev/null >/dev/null 2>&1
      case $? in
        0) ;;
        3) fail "cannot enter working directory \"$c\" as user $a" ;;
        *) fail "exec: \"$e\": executable file not found in \$PATH" ;;
      esac
      ;;
    '') ;;
    *) fail "unknown plan step '$op'" ;;
  esac
done <"$plan"
[ -n "$root" ] || fail "the plan names no root"

child=
forward() {
  [ -n "$child" ] && kill -s "$1" "$child" 2>/dev/null
}
trap 'forward TERM' TERM
trap 'forward INT' INT
trap 'forward HUP' HUP
chroot "$root" "$@" </dev/null &
child=$!
while :; do
  wait "$child"
  rc=$?
  kill -0 "$child" 2>/dev/null || break
done
exit "$rc"
