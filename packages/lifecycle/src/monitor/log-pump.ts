/**
 * The resident part of a container's monitor: a bash script (bash 5 for `$EPOCHREALTIME` and
 * `printf '%(…)T'`, so no process is forked per line) that reads the container's stdout and
 * stderr FIFOs and appends docker json-file lines to `json.log`:
 *
 *     {"log":"hello\n","stream":"stdout","time":"2026-11-30T12:00:00.123456000Z"}
 *
 * An attached `lab` follows the log file for the output. When both streams end (the container exited),
 * it writes `finished` (the exit time) and, when a restart policy or `--rm` needs deciding
 * and no `lab` process is attached, execs the Node restart manager (`monitorMain`) in its
 * place — so a running container costs one bash of ~3–4 MB plus a forked copy for stderr, and
 * Node runs only around exits and restarts.
 *
 * fds: 3 = report pipe (`ok` once both FIFOs are open), 4/5 = stdout/stderr FIFOs,
 * 6 = json.log (O_APPEND). Limits: NUL bytes are dropped (bash strings), throughput is that of
 * bash's byte-wise `read` on a pipe (a few MB/s), lines over bash's memory are not split.
 */

/** The bash program. `$1` = container dir, `$2…` = command to exec at exit (may be empty). */
/* `@{` stands for bash's `${` (a template literal would interpolate it). */
export const LOG_PUMP_SCRIPT = String.raw`
trap '' PIPE INT HUP TERM
export TZ=UTC LC_ALL=C
dir=$1
shift
exec 4<"$dir/stdout.fifo" 5<"$dir/stderr.fifo" 6>>"$dir/json.log"
echo ok >&3
exec 3>&-
pump() {
  local fd=$1 stream=$2 line e t now nl c ch
  while :; do
    if IFS= read -r -u "$fd" line; then nl='\n'
    elif [[ -n $line ]]; then nl=''
    else break; fi
    t=$EPOCHREALTIME
    printf -v now '%(%Y-%m-%dT%H:%M:%S)T' "@{t%.*}"
    e=@{line//\\/\\\\}
    e=@{e//\"/\\\"}
    e=@{e//$'\t'/\\t}
    e=@{e//$'\r'/\\r}
    if [[ $e == *[$'\x01'-$'\x1f\x7f']* ]]; then
      for c in 01 02 03 04 05 06 07 08 0b 0c 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 7f; do
        printf -v ch "\x$c"
        e=@{e//"$ch"/\\u00$c}
      done
    fi
    printf '{"log":"%s%s","stream":"%s","time":"%s.%s000Z"}\n' "$e" "$nl" "$stream" "$now" "@{t#*.}" >&6
    [[ -n $nl ]] || break
  done
}
pump 5 stderr &
pump 4 stdout
wait
exec 4<&- 5<&- 6>&-
printf '%s\n' "$EPOCHREALTIME" > "$dir/finished"
if [[ $# -gt 0 ]]; then exec "$@"; fi
`.replaceAll('@{', '${');
