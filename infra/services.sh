#!/usr/bin/env bash
# Local Redis, InfluxDB 1.x and VictoriaMetrics for `npm start` (dev profile) and `npm test` (test profile),
# run from Debian packages on loopback, with data, pid files and logs under .data/<profile>/.
#
#   bash infra/services.sh up|down|status [--profile dev|test] [redis influxdb victoria ...]
#
# `up` prints KEY=value lines on stdout and everything else on stderr, so callers can do
#   set -a; eval "$(bash infra/services.sh up --profile test)"; set +a
# A URL env var (REDIS_URL, INFLUX_URL, INFLUX_V2_URL; TEST_* for the test profile) that already answers is used
# as is. `down` only stops processes this script started (pid file + working directory check).
set -euo pipefail
set +m # launch() relies on background jobs sharing our process group: setsid then execs instead of forking

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
readonly ROOT
readonly ALL_SERVICES=(redis influxdb victoria)
readonly START_TIMEOUT_S=30 STOP_TIMEOUT_S=10

declare -A PORT URL_VAR
PROFILE='' RUN_DIR='' REDIS_MAXMEMORY='' APT_UPDATED=0 LAUNCHED_PID=''
ENV_LINES=()

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  cat <<'EOF'
usage: bash infra/services.sh up|down|status [--profile dev|test] [redis influxdb victoria ...]
  up      start what does not answer yet, wait until it does, print KEY=value lines to eval
  down    stop the instances this script started for the profile
  status  one line per service: URL, up/down, owner (exit 1 if any is down)
EOF
}

set_profile() {
  case $1 in
    dev)
      PORT=([redis]=6379 [influxdb]=8086 [victoria]=8428)
      URL_VAR=([redis]=REDIS_URL [influxdb]=INFLUX_URL [victoria]=INFLUX_V2_URL)
      REDIS_MAXMEMORY=2gb ;;
    test)
      PORT=([redis]=16379 [influxdb]=18086 [victoria]=18428)
      URL_VAR=([redis]=TEST_REDIS_URL [influxdb]=TEST_INFLUX_V1_URL [victoria]=TEST_INFLUX_V2_URL)
      REDIS_MAXMEMORY=1gb ;;
    *) die "unknown profile '$1' (expected dev or test)" ;;
  esac
  PROFILE=$1
  RUN_DIR=$ROOT/.data/$PROFILE
}

canonical_service() {
  case $1 in
    redis) echo redis ;;
    influxdb | influx) echo influxdb ;;
    victoria | victoria-metrics | vm) echo victoria ;;
    *) die "unknown service '$1' (expected: ${ALL_SERVICES[*]})" ;;
  esac
}

own_url() {
  if [[ $1 == redis ]]; then echo "redis://127.0.0.1:${PORT[redis]}"; else echo "http://127.0.0.1:${PORT[$1]}"; fi
}

configured_url() {
  local var=${URL_VAR[$1]}
  if [[ -n ${!var:-} ]]; then echo "${!var%/}"; else own_url "$1"; fi
}

# --- packages ---------------------------------------------------------------------------------------------

apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$1" >&2
}

# require BINARY PACKAGE: install the Debian package when the binary is missing.
require() {
  command -v "$1" >/dev/null 2>&1 && return 0
  ((EUID == 0)) || die "'$1' is missing: install the Debian package '$2' (sudo apt-get install $2) and rerun"
  log "installing Debian package $2 (for $1)"
  # Empty package lists (fresh image) or stale ones (404 on install): refresh once, then retry.
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || ! apt_install "$2"; then
    ((APT_UPDATED)) || { apt-get update -q >&2 || die "apt-get update failed"; APT_UPDATED=1; }
    apt_install "$2" || die "apt-get install $2 failed"
  fi
  command -v "$1" >/dev/null 2>&1 || die "package $2 is installed but '$1' is not on PATH"
}

# --- processes --------------------------------------------------------------------------------------------

alive() { # PID; a zombie (our own child that exited) counts as dead
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# Prints the pid of the instance we started for SERVICE. Each instance runs with its data dir as working
# directory, so a recycled pid or someone else's server never matches.
owned_pid() {
  local pidfile=$RUN_DIR/$1.pid pid
  [[ -s $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$RUN_DIR/$1" ]] || return 1
  echo "$pid"
}

# launch SERVICE COMMAND...: run detached (own session, no inherited fds) in the data dir; sets LAUNCHED_PID.
launch() {
  local svc=$1 logfile=$RUN_DIR/$1.log
  shift
  printf '=== %s starting:%s\n' "$(date -Is)" "$(printf ' %q' "$@")" >>"$logfile"
  (
    for fd in "/proc/$BASHPID/fd"/*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec $fd>&-"; fi
    done
    cd "$RUN_DIR/$svc"
    exec setsid "$@" >>"$logfile" 2>&1 </dev/null
  ) &
  LAUNCHED_PID=$!
  echo "$LAUNCHED_PID" >"$RUN_DIR/$svc.pid"
}

fail_with_log() { # SERVICE MESSAGE
  log "$1: $2; last lines of $RUN_DIR/$1.log:"
  tail -n 25 "$RUN_DIR/$1.log" | sed 's/^/  | /' >&2
  exit 1
}

wait_ready() { # SERVICE URL PID
  local deadline=$((SECONDS + START_TIMEOUT_S))
  until "${1}_probe" "$2"; do
    if ! alive "$3"; then
      rm -f "$RUN_DIR/$1.pid"
      fail_with_log "$1" "exited during start-up"
    fi
    ((SECONDS < deadline)) || fail_with_log "$1" "no answer at $2 after ${START_TIMEOUT_S}s (pid $3 left running)"
    sleep 0.2
  done
}

stop_pid() { # SERVICE PID
  local deadline=$((SECONDS + STOP_TIMEOUT_S))
  kill -TERM "$2" 2>/dev/null || true
  while alive "$2"; do
    if ((SECONDS >= deadline)); then
      log "$1: pid $2 ignored SIGTERM for ${STOP_TIMEOUT_S}s; sending SIGKILL"
      kill -KILL "$2" 2>/dev/null || true
      sleep 0.2
      break
    fi
    sleep 0.2
  done
}

http_code() { # URL
  curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$1" 2>/dev/null || true
}

# --- Redis ------------------------------------------------------------------------------------------------

redis_probe() {
  if command -v redis-cli >/dev/null 2>&1; then
    [[ $(timeout 5 redis-cli -u "$1" ping 2>/dev/null) == PONG ]]
  else # no redis-cli yet: plain RESP over bash's /dev/tcp (no AUTH)
    local hp=${1#*://}
    hp=${hp##*@} && hp=${hp%%/*}
    [[ $hp == *:* ]] || hp+=:6379
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "PING\r\n" >&3 && read -r l <&3 && [[ $l == +PONG* ]]' \
      "${hp%:*}" "${hp##*:}" 2>/dev/null
  fi
}

redis_start() {
  require redis-server redis-server
  # No config file: built-in defaults plus these flags, whatever /etc/redis/redis.conf says.
  # Redis 7 keeps the AOF in <dir>/appendonlydir/.
  launch redis redis-server \
    --port "${PORT[redis]}" --bind 127.0.0.1 --protected-mode yes \
    --dir "$RUN_DIR/redis" --appendonly yes --appendfsync everysec --save '' \
    --maxmemory "$REDIS_MAXMEMORY" --maxmemory-policy noeviction \
    --daemonize no --logfile '' --loglevel warning
}

# BullMQ needs noeviction, and durability needs the AOF: warn when a server we reuse runs otherwise.
redis_ready() {
  command -v redis-cli >/dev/null 2>&1 || return 0
  local aof policy
  aof=$(timeout 5 redis-cli -u "$1" config get appendonly 2>/dev/null | sed -n 2p) || true
  policy=$(timeout 5 redis-cli -u "$1" config get maxmemory-policy 2>/dev/null | sed -n 2p) || true
  if [[ -n $aof && $aof != yes ]]; then log "redis: warning: $1 has appendonly=$aof (queued jobs die with it)"; fi
  if [[ -n $policy && $policy != noeviction ]]; then
    log "redis: warning: $1 has maxmemory-policy=$policy; BullMQ needs noeviction"
  fi
  return 0
}

# --- InfluxDB 1.x -----------------------------------------------------------------------------------------

influxdb_probe() { [[ $(http_code "$1/ping") == 204 ]]; }

influxdb_start() {
  require influxd influxdb
  local dir=$RUN_DIR/influxdb
  sed -e "s|@DATA_DIR@|$dir|g" -e "s|@HTTP_PORT@|${PORT[influxdb]}|g" \
    -e "s|@RPC_PORT@|$((PORT[influxdb] + 2))|g" \
    "$ROOT/infra/conf/influxdb.conf.tmpl" >"$dir/influxdb.conf"
  launch influxdb influxd -config "$dir/influxdb.conf"
}

# The dev app writes to database `city`; tests create their own databases.
influxdb_ready() {
  [[ $PROFILE == dev ]] || return 0
  local out
  if out=$(curl -sS --max-time 10 -XPOST "$1/query" --data-urlencode 'q=CREATE DATABASE city' 2>&1) &&
    [[ $out != *'"error"'* ]]; then
    return 0
  fi
  if [[ $1 == "$(own_url influxdb)" ]] && owned_pid influxdb >/dev/null; then
    die "influxdb: CREATE DATABASE city failed: $out"
  fi
  log "influxdb: warning: could not create database city at $1: $out"
}

# --- VictoriaMetrics --------------------------------------------------------------------------------------

victoria_probe() { [[ $(http_code "$1/health") == 200 ]]; }

victoria_start() {
  require victoria-metrics victoria-metrics
  # The default retention (1 month) rejects older timestamps, e.g. replayed or simulated history.
  launch victoria victoria-metrics \
    "-httpListenAddr=127.0.0.1:${PORT[victoria]}" "-storageDataPath=$RUN_DIR/victoria" \
    -retentionPeriod=100y -loggerLevel=WARN
}

victoria_ready() { :; }

# --- commands ---------------------------------------------------------------------------------------------

up_service() {
  local svc=$1 var=${URL_VAR[$1]} url own pid
  own=$(own_url "$svc")
  url=$(configured_url "$svc")
  if "${svc}_probe" "$url"; then
    if [[ $url == "$own" ]] && pid=$(owned_pid "$svc"); then
      log "$svc: up at $url (ours, pid $pid)"
    else
      log "$svc: using $url (already answering, not started by us)"
    fi
  else
    if [[ $url != "$own" ]]; then log "$svc: $var=$url does not answer; using our own at $own"; fi
    url=$own
    if ! "${svc}_probe" "$url"; then
      if ! pid=$(owned_pid "$svc"); then
        mkdir -p "$RUN_DIR/$svc"
        "${svc}_start"
        pid=$LAUNCHED_PID
      fi
      wait_ready "$svc" "$url" "$pid"
      log "$svc: up at $url (pid $pid, log .data/$PROFILE/$svc.log)"
    fi
  fi
  "${svc}_ready" "$url"
  ENV_LINES+=("$(printf '%s=%q' "$var" "$url")")
}

down_service() {
  local svc=$1 pid
  if pid=$(owned_pid "$svc"); then
    stop_pid "$svc" "$pid"
    log "$svc: stopped (pid $pid)"
  elif "${svc}_probe" "$(own_url "$svc")"; then
    log "$svc: $(own_url "$svc") answers but was not started by us; left alone"
  else
    log "$svc: not running"
  fi
  rm -f "$RUN_DIR/$svc.pid"
}

status_service() { # prints the line; returns 1 when down
  local svc=$1 url state=down owner=- pid
  url=$(configured_url "$svc")
  if "${svc}_probe" "$url"; then state=up; fi
  if [[ $url == "$(own_url "$svc")" ]] && pid=$(owned_pid "$svc"); then
    owner="ours (pid $pid)"
  elif [[ $state == up ]]; then
    owner="not ours"
  fi
  printf '%-9s %-28s %-5s %s\n' "$svc" "$url" "$state" "$owner"
  [[ $state == up ]]
}

lock_profile() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/.lock"
  flock -w 120 9 || die "another services.sh holds $RUN_DIR/.lock"
}

main() {
  local cmd=${1:-} profile=dev svc rc=0
  local -a services=()
  if (($#)); then shift; fi
  while (($#)); do
    case $1 in
      --profile) [[ $# -ge 2 ]] || die "--profile needs a value"; profile=$2; shift 2 ;;
      --profile=*) profile=${1#*=}; shift ;;
      -h | --help) usage; exit 0 ;;
      -*) die "unknown option $1" ;;
      *) services+=("$(canonical_service "$1")"); shift ;;
    esac
  done
  ((${#services[@]})) || services=("${ALL_SERVICES[@]}")
  set_profile "$profile"

  case $cmd in
    up)
      require curl curl
      lock_profile
      for svc in "${services[@]}"; do up_service "$svc"; done
      printf '%s\n' "${ENV_LINES[@]}" ;;
    down)
      lock_profile
      for svc in "${services[@]}"; do down_service "$svc"; done ;;
    status)
      command -v curl >/dev/null 2>&1 || die "curl is missing (apt-get install curl)"
      for svc in "${services[@]}"; do status_service "$svc" || rc=1; done
      return "$rc" ;;
    -h | --help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
