#!/usr/bin/env bash
# The encode command as a user meets it: help, usage errors, exit codes,
# filters, labels, atomic output, progress on a terminal, summary.
. "$(dirname "$0")/lib/common.sh"
need_corpus encode_cli
P=$BIN/pefleet

"$P" --help >"$T/h" 2>&1; check pefleet_help_exit_0 test $? -eq 0
check pefleet_help_lists_encode grep -q "encode" "$T/h"
"$P" encode --help >"$T/h" 2>&1; check encode_help_exit_0 test $? -eq 0
check encode_help_shows_usage grep -q "usage: pefleet encode" "$T/h"
"$P" >/dev/null 2>&1; check no_command_exit_2 test $? -eq 2
"$P" frobnicate >/dev/null 2>"$T/e"; check unknown_command_exit_2 test $? -eq 2
"$P" encode >/dev/null 2>"$T/e"; check encode_no_path_exit_2 test $? -eq 2
"$P" encode --bogus x >/dev/null 2>&1; check encode_bad_option_exit_2 test $? -eq 2
"$P" encode -w 0 "$CORPUS/clean" >/dev/null 2>"$T/e"; check encode_bad_workers_exit_2 test $? -eq 2
check encode_bad_workers_message grep -q "invalid number '0' for --workers" "$T/e"
"$P" encode --timeout abc "$CORPUS/clean" >/dev/null 2>"$T/e"; check encode_bad_timeout_exit_2 test $? -eq 2

# all good: exit 0, summary on stderr
"$P" encode "$CORPUS/clean" >"$T/all.csv" 2>"$T/all.err"; rc=$?
check encode_all_good_exit_0 test $rc -eq 0
check encode_summary_line grep -Eq "^pefleet encode: 34 files, 34 encoded, 0 failed, .* files/s, .* MB/s$" "$T/all.err"
check encode_no_progress_when_not_a_tty test "$(grep -c $'\r' "$T/all.err")" -eq 0

# --filter and --label
"$P" encode -q --filter '*.dll' --label pe-legit "$CORPUS/clean" >"$T/dll.csv"
check filter_only_dlls test "$(wc -l <"$T/dll.csv")" -eq "$(ls "$CORPUS/clean" | grep -c '\.dll$')"
check label_literal test "$(cut -d, -f1 "$T/dll.csv" | sort -u)" = "pe-legit"
"$P" encode -q --label auto "$CORPUS/malicious-test/clam.exe" "$CORPUS/clean/t32.exe" >"$T/auto.csv"
check label_auto_is_folder_name test "$(cut -d, -f1 "$T/auto.csv" | tr '\n' ' ')" = "malicious-test clean "

# -o writes the whole file then renames it into place; no temp left behind
"$P" encode -q -o "$T/out.csv" "$CORPUS/clean" "$CORPUS/malicious-test"; rc=$?
check output_file_exit_0 test $rc -eq 0
check output_file_rows test "$(wc -l <"$T/out.csv")" -eq 51
check output_no_temp_left test -z "$(ls "$T" | grep '\.tmp\.' || true)"
"$P" encode -q -o /nonexistent-dir/out.csv "$CORPUS/clean/t32.exe" 2>"$T/e"; rc=$?
check output_unwritable_exit_1 test $rc -eq 1
check output_unwritable_message grep -q "cannot write /nonexistent-dir/out.csv" "$T/e"

# an empty folder: nothing to do is an error worth saying
mkdir "$T/empty"
"$P" encode "$T/empty" >/dev/null 2>"$T/e"; rc=$?
check empty_folder_exit_1 test $rc -eq 1
check empty_folder_message grep -q "no files to encode" "$T/e"

# progress line on a terminal (util-linux script gives a pty)
if command -v script >/dev/null; then
  script -qec "$P encode -w 2 -o $T/tty.csv $CORPUS/clean $CORPUS/malicious-test" /dev/null >"$T/tty.out" 2>&1
  check progress_line_on_tty grep -q "encode: 51/51 files, .* files/s, 0 failed" "$T/tty.out"
else
  skip progress_line_on_tty "util-linux script not installed"
fi
finish
