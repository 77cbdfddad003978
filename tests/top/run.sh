#!/usr/bin/env bash
# hyvm top's end-to-end tests: exact exit counts through --batch --json,
# the error messages, and the ncurses console driven in tmux.
#   tests/top/run.sh HYVM DIR-WITH-TOP-GUESTS
set -u
here=$(dirname "$0")
status=0
for t in exit-counts multi-batch errors console; do
	"$here/$t.sh" "$@" || status=1
done
exit $status
