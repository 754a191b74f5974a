# shellcheck shell=bash
# PostgreSQL and Mosquitto for one test run. The machine's servers on 127.0.0.1:5432 and :1883
# when they answer; otherwise private ones on free loopback ports, from the machine's programs or
# Debian's packages unpacked into the cache (test-tools.sh), in a throw-away folder, stopped by
# stop_test_services. The tests read the addresses from HOMESEC_TEST_PG_URL and
# HOMESEC_TEST_MQTT_PORT (tests/services.py). Needs test-tools.sh sourced and TEST_RUN set.

PRIVATE_PG_DIR=""
PRIVATE_MQTT_PID=""

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The user a root-run PostgreSQL runs as (initdb refuses root): `postgres` if the machine has
# one, else `nobody`. Empty when not root.
pg_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  if id postgres >/dev/null 2>&1; then echo postgres; else echo nobody; fi
}

# as_pg_user CMD...: CMD as that user (the folder it works in must be theirs).
as_pg_user() {
  local user; user="$(pg_user)"
  if [ -n "$user" ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

start_private_postgres() {
  local bin port user data="$TEST_RUN/postgres"
  bin="$(postgres_bin_dir)" || { log "no PostgreSQL programs: the database tests will fail"; return 0; }
  user="$(pg_user)"
  if [ -n "$user" ] && ! runuser -u "$user" -- test -x "$bin/pg_ctl"; then
    # The cache sits in root's home, which `$user` cannot enter: a world-readable copy of the
    # unpacked tree for this run, its wrappers rewritten to point there.
    local tree; tree="$(dirname "$bin")"
    cp -a "$tree" "$TEST_RUN/pg-tree"
    sed -i "s#$tree#$TEST_RUN/pg-tree#g" "$TEST_RUN"/pg-tree/bin/*
    chmod -R a+rX "$TEST_RUN/pg-tree"
    bin="$TEST_RUN/pg-tree/bin"
  fi
  export HOMESEC_PG_BIN="$bin"   # tests/engine/state/pgcluster.py starts its clusters from there
  mkdir -p "$data"
  [ -n "$user" ] && chown "$user" "$data"
  as_pg_user "$bin/initdb" -D "$data/data" -U postgres -A trust -E UTF8 --no-sync --no-instructions >/dev/null
  printf 'CREATE DATABASE test;\n' | as_pg_user "$bin/postgres" --single -D "$data/data" postgres >/dev/null 2>>"$data/single-user.log"
  port="$(free_port)"
  as_pg_user "$bin/pg_ctl" -D "$data/data" -l "$data/log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $data -c fsync=off -c synchronous_commit=off -c max_connections=300" \
    start >/dev/null
  PRIVATE_PG_DIR="$data"
  export HOMESEC_TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/test"
  log "private PostgreSQL for this run at 127.0.0.1:$port (from $bin)"
}

start_private_mosquitto() {
  local program port conf="$TEST_RUN/mosquitto.conf"
  program="$(mosquitto_program)" || { log "no Mosquitto: the MQTT tests will fail"; return 0; }
  port="$(free_port)"
  printf '%s\n' "listener $port 127.0.0.1" "allow_anonymous true" "persistence false" \
    "log_dest stderr" > "$conf"
  "$program" -c "$conf" 2>"$TEST_RUN/mosquitto.log" &
  PRIVATE_MQTT_PID=$!
  for _ in $(seq 50); do answers "$port" && break; sleep 0.1; done
  export HOMESEC_TEST_MQTT_PORT="$port"
  log "private Mosquitto for this run at 127.0.0.1:$port (from $program)"
}

start_test_services() {
  if [ "$PRIVATE_ONLY" = 1 ] || ! answers 5432; then start_private_postgres; fi
  if [ "$PRIVATE_ONLY" = 1 ] || ! answers 1883; then start_private_mosquitto; fi
}

stop_test_services() {
  if [ -n "$PRIVATE_PG_DIR" ]; then
    as_pg_user "$HOMESEC_PG_BIN/pg_ctl" -D "$PRIVATE_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [ -n "$PRIVATE_MQTT_PID" ]; then kill "$PRIVATE_MQTT_PID" 2>/dev/null; wait "$PRIVATE_MQTT_PID" 2>/dev/null || true; fi
}
