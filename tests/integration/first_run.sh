#!/usr/bin/env bash
# The README's "first ten minutes" section, walked as a new user would: the
# commands between its markers, one after the other as written, in an empty
# folder that stands for a fresh clone (bin/ built, ../shared beside it).
# Each command must exit 0 and, where the README shows a "# prints:" line
# under it, print that line.
. "$(dirname "$0")/lib/common.sh"
need_corpus first_run
README=$ROOT/README.md
W=$T/work/clone
mkdir -p "$W"
ln -s "$BIN" "$W/bin"
ln -s "$SHARED" "$T/work/shared"
# the section: the lines between the markers, inside its sh block
sed -n '/^<!-- first-ten-minutes:begin -->$/,/^<!-- first-ten-minutes:end -->$/p' "$README" >"$T/section"
n_cmds=$(grep -cv '^\(<!--\|```\|#\|$\)' "$T/section")
check "readme_section_found ($n_cmds commands)" test "$n_cmds" -ge 8
check readme_section_starts_empty test -z "$(ls "$W" | grep -v '^bin$')"
i=0
cmd=
run_step() { # runs $cmd in the work folder, checks its exit status
  i=$((i + 1))
  (cd "$W" && bash -c "$cmd") </dev/null >"$T/out.$i" 2>&1
  local rc=$?
  if [ $rc -eq 0 ]; then ok "step_${i}_exit_0 ($cmd)"; else notok "step_${i}_exit_0" "$cmd exited $rc: $(tail -2 "$T/out.$i" | tr '\n' ' ')"; fi
}
while IFS= read -r line; do
  case $line in
    '<!--'*|'```'*|'') continue ;;
    '# prints: '*)
      want=${line#'# prints: '}
      if grep -qF -- "$want" "$T/out.$i"; then ok "step_${i}_prints ($want)"
      else notok "step_${i}_prints" "'$want' not in the output of: $cmd ($(tail -2 "$T/out.$i" | tr '\n' ' '))"; fi
      ;;
    '#'*) continue ;;
    *) cmd=$line; run_step ;;
  esac
done <"$T/section"
# the folders the commands wrote into were made by them, and what they say they wrote is there
check first_run_made_models test -s "$W/models/m1/model.pfnn" -a -s "$W/models/seed/model.pfnn"
check first_run_made_reports test -s "$W/reports/m1.html" -a -s "$W/reports/m1-vs-seed.html"
finish
