#!/usr/bin/env bash
# A stand-in for ffmpeg as $LIVESTYLE_FFMPEG: runs the real ffmpeg ($FAKE_REAL_FFMPEG, default the
# one on the PATH) and injects the faults the durability tests need. The real ffprobe sits beside
# it (findFfmpeg looks for ffprobe next to $LIVESTYLE_FFMPEG). Settings, all optional:
#   FAKE_DECODE_FRAMES=N    decoding (output pipe:1): emit only the first N frames, then FAKE_DECODE_THEN:
#                           stall (wait forever, as a hung decoder), kill (die by SIGKILL, as the OOM
#                           killer does), or end (exit 0 as if the clip ended there)
#   FAKE_ENCODE_TEE=FILE    encoding (input pipe:0): copy the raw frames received into FILE
#   FAKE_ENCODE_DIE_AFTER_BYTES=N  encoding: read N bytes, then die by SIGKILL with nothing on stderr
#   FAKE_LOG=FILE           append "<pid> <role>" per start (to check process groups)
set -u
real="${FAKE_REAL_FFMPEG:-ffmpeg}"
args=("$@")
last="${args[$((${#args[@]} - 1))]}"
role=other
[[ "$last" == "pipe:1" ]] && role=decode
for a in "$@"; do [[ "$a" == "pipe:0" ]] && role=encode; done
[[ -n "${FAKE_LOG:-}" ]] && echo "$$ $role $(ps -o pgid= $$ | tr -d ' ')" >>"$FAKE_LOG"

if [[ "$role" == decode && -n "${FAKE_DECODE_FRAMES:-}" ]]; then
  unset 'args[-1]'
  "$real" "${args[@]}" -frames:v "$FAKE_DECODE_FRAMES" pipe:1
  case "${FAKE_DECODE_THEN:-end}" in
    stall) exec sleep 3600 ;;
    kill) kill -KILL $$ ;;
    *) exit 0 ;;
  esac
fi
if [[ "$role" == encode && -n "${FAKE_ENCODE_DIE_AFTER_BYTES:-}" ]]; then
  head -c "$FAKE_ENCODE_DIE_AFTER_BYTES" >/dev/null
  kill -KILL $$
fi
if [[ "$role" == encode && -n "${FAKE_ENCODE_TEE:-}" ]]; then
  tee "$FAKE_ENCODE_TEE" | "$real" "$@"
  exit "${PIPESTATUS[1]}"
fi
exec "$real" "$@"
