#!/usr/bin/env bash
# Real PostgreSQL and Redis servers for the tests (issue 22), private to one run, on 127.0.0.1 only.
#
# Sourced by .ci/run:  source .ci/services.sh; services_install; trap services_stop EXIT; services_start
# Run by tests/services.py on a developer machine:  bash .ci/services.sh start postgres --owner PID
#                                              and:  bash .ci/services.sh stop DIR
#
# services_start exports ARCHIVER_TEST_DATABASE_URL (postgresql://, a superuser, the `postgres`
# database), ARCHIVER_TEST_BROKER_URL (redis://, database 0) and ARCHIVER_TEST_SERVICES_DIR (what
# services_stop removes). Each server gets a free port, a random password and its data in a new
# temporary directory; PostgreSQL runs without fsync (a test server's data is thrown away).
# PostgreSQL refuses to run as root, so as root both servers run as an unprivileged system user.

_SERVICES_DEADLINE=30 # seconds any one server may take to start or stop

_services_log() { echo "services: $*" >&2; }

# The directory of Debian's PostgreSQL server binaries (not on PATH there), or of the ones on PATH.
_services_pg_bindir() {
    local found
    found=$(find /usr/lib/postgresql -maxdepth 3 -path '*/bin/postgres' 2>/dev/null | sort -V | tail -n 1)
    if [[ -n $found ]]; then
        dirname "$found"
    elif command -v postgres >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v postgres)"
    else
        return 1
    fi
}

# The user the servers run as: ourselves, or an unprivileged system user when we are root.
_services_user() {
    local user
    if [[ $(id -u) != 0 ]]; then
        id -un
        return
    fi
    for user in postgres redis nobody; do
        if id -u "$user" >/dev/null 2>&1; then
            echo "$user"
            return
        fi
    done
    return 1
}

_services_as() { # USER COMMAND...: run COMMAND as USER (as ourselves when USER is us)
    local user=$1
    shift
    if [[ $user == "$(id -un)" ]]; then
        "$@"
    else
        setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups --reset-env -- "$@"
    fi
}

_services_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_services_secret() { # URL-safe, no quoting needed anywhere
    python3 -c 'import secrets; print(secrets.token_hex(16))'
}

# Install Debian's servers when missing (CI runs as root on a fresh machine).
services_install() {
    if _services_pg_bindir >/dev/null && command -v redis-server >/dev/null 2>&1 \
        && command -v redis-cli >/dev/null 2>&1; then
        return 0
    fi
    _services_log "installing postgresql and redis-server (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server >/dev/null
}

_services_start_postgres() { # DIR USER
    local dir=$1 user=$2 bindir port password attempt
    bindir=$(_services_pg_bindir)
    password=$(_services_secret)
    mkdir "$dir/pg"
    printf '%s\n' "$password" >"$dir/pg.password"
    chown "$user" "$dir/pg" "$dir/pg.password"
    chmod 700 "$dir/pg"
    chmod 600 "$dir/pg.password"
    # -N: no fsync of the new cluster; C locale: text sorts by bytes, as SQLite's BINARY collation does
    _services_as "$user" "$bindir/initdb" -D "$dir/pg" -U archiver --pwfile="$dir/pg.password" \
        --auth=scram-sha-256 -E UTF8 --locale=C -N >"$dir/initdb.log" 2>&1 || {
        _services_log "initdb failed:"
        cat "$dir/initdb.log" >&2
        return 1
    }
    rm -f "$dir/pg.password"
    # only password logins over TCP from 127.0.0.1; no Unix socket at all
    printf 'host all all 127.0.0.1/32 scram-sha-256\n' >"$dir/pg/pg_hba.conf"
    for attempt in 1 2 3; do # a port found free can be taken before the server binds it
        port=$(_services_free_port)
        cat >"$dir/pg/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
        chown "$user" "$dir/pg/postgresql.auto.conf"
        : >"$dir/postgres.log"
        chown "$user" "$dir/postgres.log"
        if _services_as "$user" "$bindir/pg_ctl" -D "$dir/pg" -l "$dir/postgres.log" -w -t "$_SERVICES_DEADLINE" \
            start >/dev/null; then
            export ARCHIVER_TEST_DATABASE_URL="postgresql://archiver:$password@127.0.0.1:$port/postgres"
            return 0
        fi
        _services_log "PostgreSQL did not start on port $port (attempt $attempt):"
        tail -n 5 "$dir/postgres.log" >&2
    done
    return 1
}

_services_start_redis() { # DIR USER
    local dir=$1 user=$2 port password attempt waited pid
    password=$(_services_secret)
    mkdir "$dir/redis"
    chown "$user" "$dir/redis"
    for attempt in 1 2 3; do
        port=$(_services_free_port)
        # the password goes in a config file, not on a command line that `ps` shows
        cat >"$dir/redis.conf" <<EOF
bind 127.0.0.1
port $port
requirepass $password
save ""
appendonly no
dir $dir/redis
pidfile $dir/redis/redis.pid
logfile $dir/redis/redis.log
daemonize yes
EOF
        chown "$user" "$dir/redis.conf"
        chmod 600 "$dir/redis.conf"
        _services_as "$user" redis-server "$dir/redis.conf" || true
        for ((waited = 0; waited < _SERVICES_DEADLINE * 10; waited++)); do
            if [[ $(REDISCLI_AUTH=$password redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]]; then
                export ARCHIVER_TEST_BROKER_URL="redis://:$password@127.0.0.1:$port/0"
                return 0
            fi
            # Redis writes its pid file once it has bound its port: none after 2 s, or a dead pid,
            # is a server that could not start; try another port at once
            pid=$(cat "$dir/redis/redis.pid" 2>/dev/null || true)
            if [[ -z $pid ]]; then
                ((waited < 20)) || break
            elif ! kill -0 "$pid" 2>/dev/null; then
                break
            fi
            sleep 0.1
        done
        _services_log "Redis did not start on port $port (attempt $attempt):"
        tail -n 5 "$dir/redis/redis.log" >&2 2>/dev/null || true
        _services_stop_redis "$dir"
    done
    return 1
}

# Start the servers named (postgres, redis; both by default) in one new directory. With
# --owner PID they are stopped when that process is gone, even if it was killed.
services_start() {
    local owner="" servers=() dir user server
    while (($#)); do
        case $1 in
        --owner)
            owner=${2:?--owner needs a pid}
            shift
            ;;
        postgres | redis) servers+=("$1") ;;
        *)
            _services_log "unknown server '$1' (postgres or redis)"
            return 2
            ;;
        esac
        shift
    done
    ((${#servers[@]})) || servers=(postgres redis)
    for server in "${servers[@]}"; do
        if [[ $server == postgres ]] && ! _services_pg_bindir >/dev/null; then
            _services_log "PostgreSQL's server binaries are not installed (Debian: apt-get install postgresql)"
            return 3
        elif [[ $server == redis ]] && ! { command -v redis-server && command -v redis-cli; } >/dev/null 2>&1; then
            _services_log "redis-server is not installed (Debian: apt-get install redis-server)"
            return 3
        fi
    done
    user=$(_services_user) || {
        _services_log "no unprivileged user to run the servers as (PostgreSQL refuses root)"
        return 1
    }
    dir=$(mktemp -d "${TMPDIR:-/tmp}/archiver-services.XXXXXX")
    chmod 755 "$dir" # the server user walks into it; each server's own directory is private
    export ARCHIVER_TEST_SERVICES_DIR=$dir
    for server in "${servers[@]}"; do
        "_services_start_$server" "$dir" "$user" || {
            services_stop "$dir"
            return 1
        }
    done
    if [[ -n $owner ]]; then
        # a watchdog, detached from our terminal, for a test run that dies without its teardown
        # shellcheck disable=SC2016 # expanded by the watchdog's own shell, from its arguments
        setsid bash -c 'while kill -0 "$1" 2>/dev/null && [[ -d $2 ]]; do sleep 1; done
                        source "$3" && services_stop "$2"' _ "$owner" "$dir" "${BASH_SOURCE[0]}" \
            </dev/null >/dev/null 2>&1 &
    fi
    _services_log "${servers[*]} running on 127.0.0.1 (data in $dir)"
}

_services_stop_redis() { # DIR
    local pidfile=$1/redis/redis.pid pid waited
    [[ -s $pidfile ]] || return 0
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((waited = 0; waited < _SERVICES_DEADLINE * 10; waited++)); do
        # Redis removes its pid file once it has shut down; its process may linger a moment
        [[ -e $pidfile ]] && kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

_services_stop_postgres() { # DIR
    local dir=$1 bindir pid
    [[ -s $dir/pg/postmaster.pid ]] || return 0
    pid=$(head -n 1 "$dir/pg/postmaster.pid")
    bindir=$(_services_pg_bindir) \
        && _services_as "$(stat -c %U "$dir/pg")" "$bindir/pg_ctl" -D "$dir/pg" -m fast -w \
            -t "$_SERVICES_DEADLINE" stop >/dev/null 2>&1 && return 0
    kill -KILL "$pid" 2>/dev/null || true # a postmaster that would not stop in time
}

# Stop both servers and remove their data: the ones of DIR, or of this shell's services_start.
services_stop() {
    local dir=${1:-${ARCHIVER_TEST_SERVICES_DIR:-}}
    [[ -n $dir && -d $dir ]] || return 0
    case $dir in
    */archiver-services.*) ;;
    *)
        _services_log "refusing to remove $dir: not a directory made by services_start"
        return 1
        ;;
    esac
    _services_stop_postgres "$dir"
    _services_stop_redis "$dir"
    rm -rf "$dir"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then # run, not sourced: print the variables, one a line
    set -euo pipefail
    case ${1:-} in
    start)
        shift
        status=0
        services_start "$@" >&2 || status=$?
        ((status == 0)) || exit "$status" # 3: not installed; 1: could not start
        for name in ARCHIVER_TEST_DATABASE_URL ARCHIVER_TEST_BROKER_URL ARCHIVER_TEST_SERVICES_DIR; do
            [[ -z ${!name:-} ]] || printf '%s=%s\n' "$name" "${!name}"
        done
        ;;
    stop) services_stop "${2:?usage: $0 stop DIR}" ;;
    *)
        echo "usage: $0 start [postgres] [redis] [--owner PID] | stop DIR" >&2
        exit 2
        ;;
    esac
fi
