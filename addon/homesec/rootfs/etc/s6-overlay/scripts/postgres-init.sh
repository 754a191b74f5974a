#!/usr/bin/with-contenv bashio
# shellcheck shell=bash
# ==============================================================================
# One-shot before the `postgres` service: create the bundled PostgreSQL cluster once under
# /data/postgres, then (every start) make sure the `homesec` role has the current password
# and the `homesec` database exists. Nothing to do when an external database is configured.
#
# Password: the `database_password` option, else one generated on the first start and kept
# in /data/postgres_password (0600). homesec_engine.addon_entry applies the same rule.
# ==============================================================================
set -euo pipefail
cd /  # pg_ctl and psql run as postgres, who may not read the current folder

readonly PGDATA_DIR="${HOMESEC_PGDATA:-/data/postgres}"
readonly PASSWORD_FILE="${HOMESEC_PG_PASSWORD_FILE:-/data/postgres_password}"
readonly SOCKET_DIR="${HOMESEC_PG_SOCKET_DIR:-/run/postgresql}"
readonly PG_BIN="${PG_BIN:-/usr/lib/postgresql/17/bin}"
readonly DB_NAME="homesec"

if bashio::config.has_value 'database_url'; then
    bashio::log.info "External database configured: the bundled PostgreSQL is not prepared"
    exit 0
fi

as_postgres() {
    s6-setuidgid postgres "$@"
}

new_password() {
    # 1 KiB of randomness keeps ~240 letters and digits; take 43 of them.
    local value
    value="$(head -c 1024 /dev/urandom | tr -dc 'A-Za-z0-9')"
    printf '%s' "${value:0:43}"
}

if bashio::config.has_value 'database_password'; then
    password="$(bashio::config 'database_password')"
else
    if [[ ! -s "${PASSWORD_FILE}" ]]; then
        bashio::log.info "Generating the bundled database password (kept in ${PASSWORD_FILE})"
        (umask 077 && new_password >"${PASSWORD_FILE}")
    fi
    password="$(head -n 1 "${PASSWORD_FILE}")"
fi

mkdir -p "${PGDATA_DIR}" "${SOCKET_DIR}"
chown postgres:postgres "${PGDATA_DIR}" "${SOCKET_DIR}"
chmod 0700 "${PGDATA_DIR}"

major="$("${PG_BIN}/postgres" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/')"
if [[ -s "${PGDATA_DIR}/PG_VERSION" ]]; then
    cluster="$(cat "${PGDATA_DIR}/PG_VERSION")"
    if [[ "${cluster}" != "${major}" ]]; then
        bashio::log.fatal "The database in ${PGDATA_DIR} was made by PostgreSQL ${cluster}," \
            "this add-on runs PostgreSQL ${major}. Restore a backup of the matching add-on" \
            "version, or dump and reload the data."
        exit 1
    fi
else
    bashio::log.info "Creating the bundled PostgreSQL ${major} cluster in ${PGDATA_DIR}"
    as_postgres "${PG_BIN}/initdb" --pgdata="${PGDATA_DIR}" --username=postgres \
        --encoding=UTF8 --locale=C --auth-local=peer --auth-host=scram-sha-256 >/dev/null
fi

# A private server (unix socket only) for the set-up statements.
as_postgres "${PG_BIN}/pg_ctl" --pgdata="${PGDATA_DIR}" --wait --timeout=120 --silent \
    -o "-c listen_addresses='' -c unix_socket_directories=${SOCKET_DIR}" start

stop_server() {
    as_postgres "${PG_BIN}/pg_ctl" --pgdata="${PGDATA_DIR}" --wait --silent -m fast stop || true
}
trap stop_server EXIT

# The password travels through the environment into psql's \getenv: never on a command line.
HOMESEC_DB_PASSWORD="${password}" as_postgres "${PG_BIN}/psql" --no-psqlrc --quiet \
    --set ON_ERROR_STOP=1 --host="${SOCKET_DIR}" --username=postgres --dbname=postgres <<SQL
\\getenv pw HOMESEC_DB_PASSWORD
SELECT 'CREATE ROLE ${DB_NAME} LOGIN'
    WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${DB_NAME}')\\gexec
ALTER ROLE ${DB_NAME} WITH LOGIN PASSWORD :'pw';
SELECT 'CREATE DATABASE ${DB_NAME} OWNER ${DB_NAME}'
    WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${DB_NAME}')\\gexec
SQL

bashio::log.info "The bundled database is ready"
