#!/usr/bin/env bash
# pefleet up's secrets: with no password option `pefleet up` makes a Redis
# password, so redis-server answers NOAUTH to a client without it
# (redis-cli) and nobody else on the machine can rewrite pf:model:*; the
# password is on no process's command line and in no log; pefleet.conf and
# the key files are 0600 from the start (under umask 000 too), the data and
# redis folders 0700. The whole fleet works with it: ingest --wait, status,
# export, import-csv, train --data, promote, retrain, models, scan --server,
# similar, the gateway. A second up keeps the password (the fleet's clients
# keep working), an existing pefleet.conf from before (0644, a password set
# by hand) is read, not replaced by a new password, and comes back 0600;
# --no-redis-password runs Redis without one.
. "$(dirname "$0")/lib/common.sh"
NAME=up_secrets
need_corpus "$NAME"
need_redis "$NAME"
P=$BIN/pefleet
H5=$SHARED/seed/ergo-pe-av/model.h5
[ -f "$H5" ] || { skip "$NAME" "$H5 not found"; exit 0; }
command -v curl >/dev/null || { skip "$NAME" "curl not installed"; exit 0; }
fleet_ports
read -r SP SCP SIMP HP < <(free_ports 4)
D=$T/fleet D2=$T/old D3=$T/nopass
trap 'for d in "$D" "$D2" "$D3"; do "$P" down --data "$d" >/dev/null 2>&1; done; rm -rf "$T"' EXIT
unset REDISCLI_AUTH PEFLEET_REDIS_PASSWORD
"$P" import-keras "$H5" -o "$T/m1" --version seed-a >/dev/null 2>&1 || { notok import "import-keras failed"; finish; }
UP=(--workers 1 --scorers 1 --redis-port "$RP" --ingest-port "$IP" --worker-port "$WP" --score-port "$SP"
    --scorer-port "$SCP" --similar-port "$SIMP" --port "$HP")
router_ready() {
  for _ in $(seq 150); do grep -q 'ready, capacity' "$D/logs/score-router.log" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# --- up with no password option, under umask 000 ----------------------------------
if ! (umask 000; "$P" up --data "$D" "${UP[@]}" --model "$T/m1" >"$T/up.out" 2>&1); then
  notok fleet_up "$(tail -3 "$T/up.out")"; finish
fi
ok "fleet_up_with_no_password_option (redis $RP)"
check up_says_password_made grep -q "redis password made" "$T/up.out"
check conf_mode_0600 test "$(stat -c %a "$D/pefleet.conf")" = 600
check data_folder_0700 test "$(stat -c %a "$D")" = 700
check redis_folder_0700 test "$(stat -c %a "$D/redis")" = 700
PW=$(sed -n 's/^redis_password = //p' "$D/pefleet.conf")
check "password_64_hex_characters (${#PW})" python3 -c 'import re,sys; sys.exit(not re.fullmatch("[0-9a-f]{64}", sys.argv[1]))' "$PW"
(umask 077; printf '%s\n' "$PW" >"$T/pw") # grep -f: the password on no command line here either
no_cmdline_has_password() {
  local f
  for f in /proc/[0-9]*/cmdline; do tr '\0' ' ' 2>/dev/null <"$f"; echo; done | grep -qF -f "$T/pw" && return 1
  return 0
}
check redis_server_runs_with_a_password sh -c "ps -eo args | grep -q '^redis-server 127.0.0.1:$RP'"
check password_on_no_command_line no_cmdline_has_password
check password_in_no_log sh -c "! grep -rqF -f '$T/pw' '$D/logs'"
out=$(redis-cli -p "$RP" get pf:model:current 2>&1)
check "redis_cli_without_password_noauth ($out)" sh -c "echo '$out' | grep -q NOAUTH"
out=$(redis-cli -p "$RP" set pf:model:current evil 2>&1)
check "redis_cli_cannot_rewrite_the_model ($out)" sh -c "echo '$out' | grep -q NOAUTH"
fleet_auth "$D"
check redis_cli_with_the_password test "$($RCLI ping)" = PONG
check model_untouched test "$($RCLI get pf:model:current)" = seed-a

# key files made under umask 000: the secret is 0600 from the start
(umask 000; "$P" keygen k1 -o "$T/keys" --role worker >/dev/null 2>&1)
check keygen_secret_0600_under_umask_000 test "$(stat -c %a "$T/keys/k1.key")" = 600
check keygen_public_0644 test "$(stat -c %a "$T/keys/allowed/workers/k1.pub")" = 644

# --- every command and daemon of the fleet --------------------------------------------
S=$T/samples
mkdir -p "$S"
cp "$CORPUS"/clean/*.exe "$S/"
N=$(ls "$S" | wc -l)
"$P" ingest --data "$D" --label clean --wait -q "$S" >"$T/ing.out" 2>&1
check "ingest_wait_works (exit $?)" grep -q "^done [0-9]*, failed [0-9]*" "$T/ing.out"
"$P" status --data "$D" >"$T/st.out" 2>&1
check status_works grep -q "^samples $N:" "$T/st.out"
"$P" export --jsonl --data "$D" >"$T/export.jsonl" 2>/dev/null
check "export_works ($(wc -l <"$T/export.jsonl") rows)" test -s "$T/export.jsonl"
check router_ready router_ready
one=$(ls "$S" | head -1)
"$P" scan --server --data "$D" -q "$S/$one" >"$T/scan.out" 2>"$T/scan.err"
check "scan_server_works (exit $?)" grep -qE '^(clean|malicious) ' "$T/scan.out"
sha=$(sha256sum "$S/$one" | cut -c1-64)
ok_similar() {
  for _ in $(seq 50); do
    "$P" similar "$sha" --threshold 1 --jsonl --timeout 5 --data "$D" 2>/dev/null | grep -q "\"sha256\":\"$sha\"" && return 0
    sleep 0.2
  done
  return 1
}
check similar_works ok_similar
check gateway_works sh -c "curl -sf http://127.0.0.1:$HP/healthz >/dev/null"
python3 "$ROOT/tests/integration/lib/synth_dataset.py" "$T/ds.csv" 600
"$P" import-csv --data "$D" --label-map none "$T/ds.csv" >/dev/null 2>"$T/imp.err"; rc=$?
check "import_csv_works (exit $rc)" test $rc -eq 0 -a "$($RCLI scard pf:samples)" -gt "$N"
"$P" train --data "$D" -o "$T/m2" --epochs 3 -q >"$T/train.out" 2>"$T/train.err"; rc=$?
check "train_data_works (exit $rc: $(tail -1 "$T/train.err"))" test $rc -eq 0 -a -s "$T/m2/model.pfnn"
"$P" promote "$T/m2" --data "$D" >"$T/promote.out" 2>&1
check "promote_works (exit $?)" test "$($RCLI get pf:model:current)" != seed-a
"$P" retrain --data "$D" --epochs 2 -q >"$T/retrain.out" 2>&1; rc=$?
# 0 promoted, 4 trained but the champion kept: both read and wrote Redis
check "retrain_works (exit $rc: $(tail -1 "$T/retrain.out"))" test $rc -eq 0 -o $rc -eq 4
"$P" models --json --data "$D" >"$T/models.json" 2>&1
check models_works python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/models.json"

# --- up again: the password is kept ----------------------------------------------------
"$P" down --data "$D" >/dev/null 2>&1
"$P" up --data "$D" "${UP[@]}" >"$T/up2.out" 2>&1
check "second_up_works ($(tail -1 "$T/up2.out"))" grep -q "fleet running" "$T/up2.out"
check second_up_keeps_password test "$(sed -n 's/^redis_password = //p' "$D/pefleet.conf")" = "$PW"
check second_up_says_kept grep -q "redis password kept" "$T/up2.out"
check samples_survive_second_up grep -q "^samples [1-9]" <("$P" status --data "$D" 2>&1)
"$P" down --data "$D" >/dev/null 2>&1

# --- a fleet made before: pefleet.conf 0644 with a hand-set password, data folder 0755
mkdir -p "$D2"
chmod 755 "$D2"
printf 'redis_port = %s\nredis_password = hand-set-secret\n' "$RP" >"$D2/pefleet.conf"
chmod 644 "$D2/pefleet.conf"
unset REDISCLI_AUTH
"$P" up --data "$D2" "${UP[@]}" --scorers 0 >"$T/up3.out" 2>&1
check "old_fleet_up_works ($(tail -1 "$T/up3.out"))" grep -q "fleet running" "$T/up3.out"
check old_conf_password_read_not_replaced grep -qx "redis_password = hand-set-secret" "$D2/pefleet.conf"
check old_conf_now_0600 test "$(stat -c %a "$D2/pefleet.conf")" = 600
check old_data_folder_now_0700 test "$(stat -c %a "$D2")" = 700
check old_fleet_status_works grep -q "^samples 0:" <("$P" status --data "$D2" 2>&1)
check old_fleet_redis_wants_the_password sh -c "REDISCLI_AUTH=hand-set-secret redis-cli -p $RP --no-auth-warning ping | grep -q PONG && redis-cli -p $RP get x 2>&1 | grep -q NOAUTH"
"$P" down --data "$D2" >/dev/null 2>&1

# --- the explicit way off ---------------------------------------------------------------
"$P" up --data "$D3" "${UP[@]}" --scorers 0 --no-redis-password >"$T/up4.out" 2>&1
fleet_auth "$D3" # none: REDISCLI_AUTH unset
check "no_password_up_works ($(tail -1 "$T/up4.out"))" grep -q "fleet running" "$T/up4.out"
check no_password_says_so grep -q "redis without a password (--no-redis-password)" "$T/up4.out"
check no_password_in_conf sh -c "! grep -q '^redis_password' '$D3/pefleet.conf'"
check no_password_redis_open sh -c "redis-cli -p $RP ping | grep -q PONG"
check no_password_status_works grep -q "^samples 0:" <("$P" status --data "$D3" 2>&1)
check no_password_conf_still_0600 test "$(stat -c %a "$D3/pefleet.conf")" = 600
finish
