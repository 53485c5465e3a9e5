#!/usr/bin/env bash
# `npm start`: the whole system on this machine, fed by a small simulated city.
#   pnpm + dependencies → Redis + InfluxDB 1.6.7 on loopback (services.sh, dev profile) → broker → worker →
#   simulated fleet in the foreground. Ctrl-C stops the fleet, then the broker and worker, gracefully.
# Every setting can be overridden through the services' environment variables (see README.md).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

# shellcheck source=infra/bootstrap.sh
source infra/bootstrap.sh
set -a
eval "$(bash infra/services.sh up --profile dev redis influxdb)"
: "${INFLUX_API:=v1}" "${INFLUX_DB:=city}" "${MQTT_PORT:=1883}"
ALERT_MQTT_URL=${ALERT_MQTT_URL:-mqtt://127.0.0.1:$MQTT_PORT}
set +a
BROKER_OPS=http://127.0.0.1:${BROKER_OPS_PORT:-9101} WORKER_OPS=http://127.0.0.1:${WORKER_OPS_PORT:-9102}
LOGS=$ROOT/.data/dev/logs
mkdir -p "$LOGS"

pids=()
stop_all() {
  trap - EXIT INT TERM
  ((${#pids[@]})) || return 0
  echo "start: stopping broker and worker (they flush what they hold first)" >&2
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT TERM

run_service() { # NAME OPS_URL: start services/NAME in the background, wait until /readyz says ready
  local name=$1 ops=$2
  OPS_PORT=${ops##*:} node --import tsx "services/$name/src/main.ts" >>"$LOGS/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    if curl -fsS "$ops/readyz" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "start: $name did not become ready; the end of $LOGS/$name.log:" >&2
  tail -n 20 "$LOGS/$name.log" >&2
  exit 1
}
# Accounts and devices live in the device registry (Redis): only registered clients get into the broker.
city() { node --import tsx services/cli/src/main.ts --redis-url "$REDIS_URL" --prefix "${QUEUE_PREFIX:-city}" "$@"; }
issue_token() { # NAME ROLE: a fresh token for an operator account, creating the account if needed (only hashes are kept)
  city operators rotate "$1" 2>/dev/null || city operators add "$1" --role "$2" 2>/dev/null
}
CREDENTIALS=$ROOT/.data/dev/credentials
mkdir -p "$CREDENTIALS" && chmod 700 "$CREDENTIALS"
if [[ -z ${ALERT_MQTT_PASSWORD:-} ]]; then # the worker's alert role publishes with a service account
  export ALERT_MQTT_USERNAME=operator:alerts ALERT_MQTT_PASSWORD
  ALERT_MQTT_PASSWORD=$(issue_token alerts service) || { echo "start: cannot create the worker's service account in $REDIS_URL" >&2; exit 1; }
fi
(umask 077 && issue_token console operator >"$CREDENTIALS/operator-console.token") # for `npm run alerts`

run_service broker "$BROKER_OPS"
run_service worker "$WORKER_OPS"

cat >&2 <<MSG

  The city is running.
    MQTT broker       mqtt://127.0.0.1:$MQTT_PORT   (devices publish to city/v1/{family}/{deviceId}/telemetry)
    Alerts            npm run alerts                 (as operator:console; its token: .data/dev/credentials/)
    Devices           pnpm -s city devices --help    (register one: it prints the token the device logs in with)
    Latest readings   npm run readings               (InfluxDB $INFLUX_URL, database $INFLUX_DB)
    Dead letters      npm run dead-letters           (rejected payloads, with reasons)
    Metrics, health   $BROKER_OPS/metrics  $WORKER_OPS/metrics  (/healthz, /readyz)
    Logs              $LOGS/{broker,worker}.log
  Ctrl-C stops the fleet, the worker and the broker. Redis and InfluxDB keep running:
  bash infra/services.sh down stops them.

MSG

node --import tsx simulators/city/src/main.ts --url "mqtt://127.0.0.1:$MQTT_PORT" \
  --provision --redis-url "$REDIS_URL" --prefix "${QUEUE_PREFIX:-city}" --credentials-file "$CREDENTIALS/simulator.json" \
  --devices "${SIM_DEVICES:-5}" --interval-ms "${SIM_INTERVAL_MS:-2000}" \
  --invalid-rate "${SIM_INVALID_RATE:-0.02}" --over-threshold-rate "${SIM_OVER_THRESHOLD_RATE:-0.02}" >/dev/null
