#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, in a directory of its own.
#
#   scripts/pg-throwaway.sh start DIR   creates and starts a cluster in DIR (made if missing, must
#                                       be empty), creates the database `laituri` and prints its
#                                       URL, postgres://laituri@127.0.0.1:PORT/laituri, on stdout
#   scripts/pg-throwaway.sh stop DIR    stops the cluster in DIR and removes DIR (only a DIR that
#                                       `start` made a cluster in; a missing DIR is no error)
#   scripts/pg-throwaway.sh watch DIR   waits until its standard input closes, then stops: a test
#                                       process that holds the other end of the pipe takes the
#                                       cluster with it however it ends
#
# The cluster is for tests only: the superuser `laituri` is trusted without a password, on the
# Unix socket in DIR and on TCP at 127.0.0.1 (a free port, open to every local user), and fsync
# is off. PostgreSQL refuses
# to run as root, so as root the cluster runs as Debian's `postgres` system user, which gets DIR.
# The binaries are those of the highest PostgreSQL version installed (scripts/setup-debian.sh
# installs Debian's); Debian's own default cluster is neither needed nor touched.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|watch DIR" >&2
  exit 2
}
[ "$#" -eq 2 ] || usage
cmd=$1
dir=$2

# The directory of initdb and pg_ctl: the highest version under /usr/lib/postgresql (Debian),
# else whatever is on PATH.
find_bindir() {
  local best
  best=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$best" ] && [ -x "$best/initdb" ] && [ -x "$best/pg_ctl" ]; then
    echo "$best"
  elif command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  else
    echo "pg-throwaway: PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin" \
      "nor on PATH): run scripts/setup-debian.sh" >&2
    exit 1
  fi
}

# Runs a command as the cluster's owner: this user, or `postgres` when this is root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

start() {
  local bindir port url attempt
  bindir=$(find_bindir)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -n "$(ls -A "$dir")" ]; then
    echo "pg-throwaway: $dir is not empty" >&2
    exit 1
  fi
  # Marks the directory as ours: `stop` removes no directory without this file.
  echo "A throwaway PostgreSQL cluster of scripts/pg-throwaway.sh" >"$dir/.pg-throwaway"
  if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      echo "pg-throwaway: running as root needs the 'postgres' user that Debian's package" \
        "creates: run scripts/setup-debian.sh" >&2
      exit 1
    fi
    chown postgres: "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      echo "pg-throwaway: the postgres user cannot write $dir (is a parent directory private?)" >&2
      exit 1
    fi
  fi

  as_owner "$bindir/initdb" --pgdata="$dir/data" --username=laituri --auth=trust \
    --encoding=UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    echo "pg-throwaway: initdb failed" >&2
    exit 1
  }
  as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF

# Throwaway test cluster (scripts/pg-throwaway.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

  # A random port; if another program holds it, PostgreSQL cannot bind and we take another.
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    port=$((15000 + (RANDOM % 17000)))
    if as_owner "$bindir/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait \
      --timeout=60 --silent -o "-p $port" start >/dev/null 2>"$dir/pg_ctl.log"; then
      break
    fi
    if [ "$attempt" -eq 10 ] || ! grep -q "could not bind\|could not create any TCP/IP sockets" \
      "$dir/server.log"; then
      cat "$dir/server.log" "$dir/pg_ctl.log" >&2
      echo "pg-throwaway: the server did not start" >&2
      exit 1
    fi
  done
  echo "$port" >"$dir/port"

  as_owner "$bindir/createdb" --host="$dir" --port="$port" --username=laituri laituri
  url="postgres://laituri@127.0.0.1:$port/laituri"
  echo "$url" >"$dir/url"
  echo "$url"
}

stop() {
  [ -d "$dir" ] || return 0
  if [ ! -f "$dir/.pg-throwaway" ]; then
    echo "pg-throwaway: $dir is not a throwaway cluster's directory; leaving it alone" >&2
    exit 1
  fi
  if [ -f "$dir/data/postmaster.pid" ]; then
    local bindir
    bindir=$(find_bindir)
    as_owner "$bindir/pg_ctl" --pgdata="$dir/data" --mode=fast --wait --timeout=30 --silent stop \
      >/dev/null ||
      as_owner "$bindir/pg_ctl" --pgdata="$dir/data" --mode=immediate --wait --silent stop \
        >/dev/null ||
      echo "pg-throwaway: could not stop the server in $dir; removing it anyway" >&2
  fi
  rm -rf "$dir"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  watch)
    # A Ctrl-C that reaches the whole process group must not stop the watcher before it cleans up.
    trap '' INT TERM HUP
    cat >/dev/null || true
    stop
    ;;
  *) usage ;;
esac
