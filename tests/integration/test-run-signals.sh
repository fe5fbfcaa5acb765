#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Signals and PID 1: SIGTERM to `ward run` reaches the app as the image's
# stop signal, the app's status comes back, an app that ignores it is
# KILLed after the timeout, and orphaned zombies are reaped by ward-init.
source "$(dirname "$0")/test-run-lib.sh" "$1" "$2"
TINY=$IMAGES/tiny/oci

# foreground: SIGTERM to ward run -> the app's trap -> its exit status
"$WARD" run -q --insecure-host-keys "$TINY" -- sh -c 'trap "echo got-TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done' >"$T/fg" 2>&1 &
W=$!
wait_for 50 grep -q ready "$T/fg"
kill -TERM $W
wait $W; rc=$?
[ "$rc" = 7 ] && echo "ok   sigterm-foreground" || { echo "FAIL sigterm-foreground: exit $rc"; cat "$T/fg"; fail=1; }
grep -q got-TERM "$T/fg" || { echo "FAIL sigterm-reached-app"; fail=1; }

# detached: ward stop
check detach 0 run -d --name sig-t "$TINY" -- sh -c 'trap "echo got-TERM; exit 9" TERM; echo ready; while :; do sleep 0.1; done'
check detach-ready 0 wait_for 50 sh -c "'$WARD' logs sig-t | grep -q ready"
check stop 0 "$WARD" stop sig-t
check stopped 0 "$WARD" ps -a
contains stopped "sig-t .*exited(9)"
check logs 0 "$WARD" logs sig-t
contains logs got-TERM
check rm 0 "$WARD" rm sig-t

# an app that ignores SIGTERM is killed after --stop-timeout
"$WARD" run -q --insecure-host-keys --stop-timeout 1 "$TINY" -- sh -c 'trap "" TERM; echo ready; while :; do sleep 0.1; done' >"$T/ig" 2>&1 &
W=$!
wait_for 50 grep -q ready "$T/ig"
kill -TERM $W
wait $W; rc=$?
[ "$rc" = 137 ] && echo "ok   kill-after-timeout" || { echo "FAIL kill-after-timeout: exit $rc"; cat "$T/ig"; fail=1; }

# zombies: orphans re-parented to ward-init are reaped
check zombies 0 run "$TINY" -- sh -c '
	for i in 1 2 3 4 5; do (sleep 0.1 &); done
	sleep 1
	z=0; for s in /proc/[0-9]*/stat; do read -r _ _ st _ < "$s" 2>/dev/null; [ "$st" = Z ] && z=$((z+1)); done
	echo "zombies=$z"'
contains zombies "zombies=0"
exit $fail
