#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Real, unmodified apps from the Debian test image: python3 (env, argv,
# exit code), redis-server through a published port (PING/SET/GET, a
# password given on its command line refuses a wrong one), nginx over HTTP.
# The manifest secrets (requirepass template, the coordinator's TLS
# certificate for nginx) come with the [coordinator] issue.
source "$(dirname "$0")/test-run-lib.sh" "$1" "$2"
DEB=$IMAGES/debian/oci
[ -d "$DEB" ] || skip "no debian test image"

check python-exit 3 run -e SECRET=s3cr3t "$DEB:python" -- python3 -c \
	'import os, sys; print("secret", os.environ["SECRET"], "argv", sys.argv); sys.exit(3)' a b
contains python-output "secret s3cr3t argv \['-c', 'a', 'b'\]"
contains python-unpacked "layer(s) verified and unpacked in memory"

P=$(free_port)
check redis-start 0 run -d --name redis-t -p "$P:6379" "$DEB:redis" -- \
	redis-server --protected-mode no --save "" --requirepass pw-from-test
check redis-up 0 wait_for 50 sh -c "redis-cli -p $P -a pw-from-test --no-auth-warning ping | grep -q PONG"
check redis-ping 0 redis-cli -p "$P" -a pw-from-test --no-auth-warning ping
contains redis-ping PONG
check redis-set 0 redis-cli -p "$P" -a pw-from-test --no-auth-warning set k v42
check redis-get 0 redis-cli -p "$P" -a pw-from-test --no-auth-warning get k
contains redis-get v42
check redis-wrong-password 0 redis-cli -p "$P" -a wrong --no-auth-warning get k
contains redis-wrong-password "WRONGPASS"
check redis-ps 0 "$WARD" ps
contains redis-ps "redis-t .*running"
check redis-stop 0 "$WARD" stop redis-t
check redis-exited 0 "$WARD" ps -a
contains redis-exited "redis-t .*exited(0)"
check redis-logs 0 "$WARD" logs redis-t
contains redis-logs "Ready to accept connections"
check redis-rm 0 "$WARD" rm redis-t
check redis-port-closed 1 sh -c "redis-cli -p $P ping 2>&1 | grep -q PONG"

P=$(free_port)
check nginx-start 0 run -d --name nginx-t -p "$P:80" "$DEB:nginx"
check nginx-up 0 wait_for 50 curl -sf "http://127.0.0.1:$P/"
check nginx-get 0 curl -s "http://127.0.0.1:$P/"
contains nginx-get "Welcome to nginx"
check nginx-stop 0 "$WARD" stop nginx-t
check nginx-logs 0 "$WARD" ps -a
contains nginx-exited "nginx-t .*exited(0)"
check nginx-rm 0 "$WARD" rm nginx-t
exit $fail
