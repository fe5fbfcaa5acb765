#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CLI basics: help lists every subcommand, version prints build info, exit
# codes follow the convention (0 ok, 1 failure, 2 usage).
set -u
WARD=$1
WARD_INIT=$2
fail=0
check() { # check NAME EXPECTED_RC CMD...
	local name=$1 want=$2; shift 2
	"$@" >/tmp/ward-cli-out.$$ 2>&1
	local rc=$?
	if [ "$rc" != "$want" ]; then
		echo "FAIL $name: exit $rc, expected $want"; cat /tmp/ward-cli-out.$$; fail=1
	fi
}
contains() { # contains NAME PATTERN
	if ! grep -q -- "$2" /tmp/ward-cli-out.$$; then
		echo "FAIL $1: output lacks '$2'"; cat /tmp/ward-cli-out.$$; fail=1
	fi
}

check help 0 "$WARD" --help
for c in convert run coordinator manifest secret verify evidence volume sim version; do
	contains "help lists $c" "^  $c "
done
check version 0 "$WARD" version
contains version "^ward [0-9]"
contains version-libs "OpenSSL 3"
check --version 0 "$WARD" --version
check no-args 2 "$WARD"
check unknown-command 2 "$WARD" frobnicate
contains unknown-command "unknown command 'frobnicate'"
check unknown-option 2 "$WARD" --frob
check bad-log-format 2 "$WARD" --log-format xml version
check version-extra-arg 2 "$WARD" version extra
for c in convert run coordinator manifest secret verify evidence volume; do
	check "$c --help" 0 "$WARD" "$c" --help
	contains "$c --help" "Usage: ward $c"
	check "help $c" 0 "$WARD" help "$c"
done
check ward-init-help 0 "$WARD_INIT" --help
check ward-init-version 0 "$WARD_INIT" --version
rm -f /tmp/ward-cli-out.$$
exit $fail
