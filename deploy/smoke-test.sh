#!/usr/bin/env bash
# deploy/smoke-test.sh: the first call through a running `dialer serve` (docs/deploy-dialer.md, "First call").
#
#   DIALER_CONTROL_TOKEN=... deploy/smoke-test.sh --campaign smoke --number +12065550123 \
#       [--url https://dialer.example.com] [--timeout 180] [--expect ANSWERED]
#
# It checks /healthz and /readyz, starts the configured campaign NAME with a one-contact list (the number given,
# dialed afresh: "resume": false), follows it until it ends, and reads its result from the ledger
# (GET /v1/campaigns/NAME/results). Exit 0 when the call reached the callee's network (ANSWERED, BUSY, NO_ANSWER or
# REJECTED; only --expect's disposition when given), 1 otherwise, 2 on a usage error. Needs bash, curl and jq.
set -euo pipefail

url="${DIALER_URL:-http://127.0.0.1:8080}"
campaign=""
number=""
timeout=180
expect=""

usage() {
  echo "usage: DIALER_CONTROL_TOKEN=... $0 --campaign NAME --number +E164 [--url URL] [--timeout SECONDS] [--expect DISPOSITION]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --url) url="${2:?--url needs a value}"; shift 2 ;;
    --campaign) campaign="${2:?--campaign needs a value}"; shift 2 ;;
    --number) number="${2:?--number needs a value}"; shift 2 ;;
    --timeout) timeout="${2:?--timeout needs a value}"; shift 2 ;;
    --expect) expect="${2:?--expect needs a value}"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "smoke-test: unknown argument '$1'" >&2; usage ;;
  esac
done
[ -n "$campaign" ] || { echo "smoke-test: --campaign is required (a campaign of the server's configuration)" >&2; usage; }
[[ "$number" =~ ^\+[1-9][0-9]{6,14}$ ]] || { echo "smoke-test: --number must be an E.164 number such as +12065550123" >&2; usage; }
[[ "$timeout" =~ ^[0-9]+$ ]] || { echo "smoke-test: --timeout must be a whole number of seconds" >&2; usage; }
[ -n "${DIALER_CONTROL_TOKEN:-}" ] || { echo "smoke-test: set DIALER_CONTROL_TOKEN to the server's server.control-token" >&2; exit 2; }
for tool in curl jq; do
  command -v "$tool" >/dev/null 2>&1 || { echo "smoke-test: $tool is required" >&2; exit 2; }
done
url="${url%/}"
masked="...${number: -4}"
auth="Authorization: Bearer $DIALER_CONTROL_TOKEN"

fail() { echo "smoke-test: FAIL: $*" >&2; exit 1; }

# 1. The server is up and ready (its ledger open).
for path in /healthz /readyz; do
  code="$(curl -s -o /dev/null -w '%{http_code}' "$url$path" || true)"
  [ "$code" = 200 ] || fail "GET $url$path answered ${code:-nothing} (is dialer serve running and reachable?)"
done
echo "smoke-test: $url is healthy and ready"

# 2. Start the campaign with one contact, dialed afresh.
body="$(jq -n --arg c "$campaign" --arg csv "$(printf 'id,phone\nsmoke-1,%s\n' "$number")" \
  '{campaign: $c, "contacts-csv": $csv, resume: false}')"
answer="$(curl -s -w '\n%{http_code}' -X POST "$url/v1/campaigns" -H "$auth" -H 'Content-Type: application/json' \
  --data-binary "$body")"
code="${answer##*$'\n'}"
[ "$code" = 200 ] || fail "POST /v1/campaigns answered $code: $(printf '%s' "${answer%$'\n'*}" | jq -r '.error? // .' 2>/dev/null)"
echo "smoke-test: campaign $campaign started, calling $masked"

# 3. Follow it until it ends (or pauses on an error).
deadline=$(( $(date +%s) + timeout ))
state=""
while :; do
  status="$(curl -s -f "$url/v1/campaigns/$campaign" -H "$auth")" || fail "GET /v1/campaigns/$campaign failed"
  state="$(jq -r '.state' <<<"$status")"
  reason="$(jq -r '.pauseReason // empty' <<<"$status")"
  echo "smoke-test: $state, attempts $(jq -r '.attempts // 0' <<<"$status"), live $(jq -r '.live // 0' <<<"$status")"
  case "$state" in
    COMPLETED) break ;;
    CANCELLED|FAILED) fail "the campaign ended $state" ;;
    PAUSED) [ -z "$reason" ] || fail "the campaign paused: $reason" ;;
  esac
  [ "$(date +%s)" -lt "$deadline" ] || fail "the campaign did not complete within ${timeout}s (state $state)"
  sleep 2
done

# 4. The call's result, from the ledger.
results="$(curl -s -f "$url/v1/campaigns/$campaign/results" -H "$auth")" || fail "GET /v1/campaigns/$campaign/results failed"
row="$(printf '%s\n' "$results" | tr -d '\r' | awk -F, 'NR > 1 && $2 == "smoke-1"' | tail -1)"
[ -n "$row" ] || fail "the ledger holds no attempt of contact smoke-1"
disposition="$(cut -d, -f11 <<<"$row")"
sip="$(cut -d, -f12 <<<"$row")"
region="$(cut -d, -f5 <<<"$row")"
echo "smoke-test: the call to $masked in $region ended $disposition${sip:+ (SIP $sip)}"
if [ -n "$expect" ]; then
  [ "$disposition" = "$expect" ] || fail "expected $expect"
else
  case "$disposition" in
    ANSWERED|BUSY|NO_ANSWER|REJECTED) ;;
    *) fail "the call did not reach the callee's network ($disposition): see the dialer's log and the bridge's" ;;
  esac
fi
echo "smoke-test: PASS"
