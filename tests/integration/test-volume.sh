#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Real workloads on a mounted protected volume: untar a real source tree
# and compare byte for byte, POSIX corner cases, SQLite with
# PRAGMA integrity_check, redis with AOF across a restart, an fsx-style
# random tester against a plain directory, then remount and offline check.
# Usage: test-volume.sh WARD VOL-FSX
. "$(dirname "$0")/test-volume-lib.sh"
FSX=${2:?vol-fsx binary}

lap() { local now=$EPOCHREALTIME; printf '[%5.1fs] ' "$(echo "$now - ${LAP:-$now}" | bc)"; LAP=$now; }
LAP=$EPOCHREALTIME
B=$T/back
M=$T/mnt
P=$T/plain
mkdir -p "$P"
vol_create "$B"
vol_mount "$B" "$M" --commit-interval 200 || fail "mount"

# 1. Untar a real source tree (a few thousand files) and compare.
SRC=/usr/lib/python3
[ -d $SRC ] || SRC=/usr/include
tar -C "$(dirname $SRC)" -cf "$T/src.tar" "$(basename $SRC)" 2>/dev/null
nfiles=$(tar -tf "$T/src.tar" | wc -l)
tar -C "$M" -xf "$T/src.tar" || fail "untar into the volume"
diff -r --no-dereference "$SRC" "$M/$(basename $SRC)" >/dev/null || fail "untarred tree differs"
lap; echo "ok untar: $nfiles entries of $SRC identical"

# 2. POSIX corner cases.
cd "$M"
echo one >a && echo two >b
ln a hard && [ "$(stat -c %h a)" = 2 ] || fail "hard link count"
ln -s a sym && [ "$(readlink sym)" = a ] && [ "$(cat sym)" = one ] || fail "symlink"
mv -f b a && [ "$(cat a)" = two ] && [ "$(cat hard)" = one ] || fail "rename over a file"
echo more >>a && [ "$(cat a)" = "$(printf 'two\nmore')" ] || fail "append"
truncate -s 2 a && [ "$(cat a)" = tw ] || fail "truncate"
truncate -s 10000 a && [ "$(stat -c %s a)" = 10000 ] || fail "extend"
[ "$(tail -c 9998 a | tr -d '\0' | wc -c)" = 0 ] || fail "extension not zero"
chmod 640 a && [ "$(stat -c %a a)" = 640 ] || fail "chmod"
mkdir -p d/e/f && mv d/e g && [ -d g/f ] || fail "directory rename"
rmdir d 2>/dev/null && ! [ -e d ] || fail "rmdir"
if rmdir g 2>/dev/null; then fail "rmdir of a non-empty directory succeeded"; fi
if mknod fifo p 2>/dev/null; then fail "mknod of a FIFO succeeded"; fi
for i in $(seq 1 500); do echo $i >many.$i; done
[ "$(ls | grep -c '^many\.')" = 500 ] || fail "500 files"
rm many.*
cd /
lap; echo "ok posix: links, symlinks, rename-over, append, truncate, chmod, dirs, 500 files"

# 3. SQLite: its own shell, inserts, integrity check.
sqlite3 "$M/test.db" <<'SQL' >/dev/null || fail "sqlite"
PRAGMA journal_mode=WAL;
CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, b BLOB);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 5000)
INSERT INTO t(v, b) SELECT 'row ' || x, randomblob(300) FROM c;
CREATE INDEX tv ON t(v);
SQL
for i in $(seq 1 20); do echo "INSERT INTO t(v) VALUES ('tx $i');"; done | sqlite3 "$M/test.db" ||
	fail "sqlite inserts"
[ "$(sqlite3 "$M/test.db" 'PRAGMA integrity_check;')" = ok ] || fail "sqlite integrity_check"
[ "$(sqlite3 "$M/test.db" 'SELECT count(*) FROM t;')" = 5020 ] || fail "sqlite row count"
lap; echo "ok sqlite: 5020 rows, integrity_check ok"

# 4. redis with AOF persistence across a restart.
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
	port=$((20000 + RANDOM % 20000))
	mkdir "$M/redis"
	redis-server --port $port --bind 127.0.0.1 --dir "$M/redis" --appendonly yes \
		--appendfsync everysec --save '' --daemonize no >"$T/redis.log" 2>&1 &
	RPID=$!
	for _ in $(seq 1 100); do redis-cli -p $port ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
	for i in $(seq 1 200); do echo "SET key$i value$i"; done | redis-cli -p $port >/dev/null
	redis-cli -p $port INCRBY counter 42 >/dev/null
	redis-cli -p $port SHUTDOWN >/dev/null 2>&1 || true # flushes the AOF
	wait $RPID 2>/dev/null || true
	redis-server --port $port --bind 127.0.0.1 --dir "$M/redis" --appendonly yes \
		--save '' --daemonize no >>"$T/redis.log" 2>&1 &
	RPID=$!
	for _ in $(seq 1 100); do redis-cli -p $port ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
	[ "$(redis-cli -p $port GET key137)" = value137 ] || fail "redis lost data after restart"
	[ "$(redis-cli -p $port GET counter)" = 42 ] || fail "redis counter"
	[ "$(redis-cli -p $port DBSIZE)" = 201 ] || fail "redis dbsize"
	redis-cli -p $port SHUTDOWN NOSAVE >/dev/null 2>&1 || true
	wait $RPID 2>/dev/null || true
	lap; echo "ok redis: AOF persistence across a restart"
else
	echo "note: redis-server not installed, redis test skipped"
fi

# 5. fsx-style random operations against a plain directory.
"$FSX" "$M/fsx.dat" "$P/fsx.dat" 3000 7 || fail "fsx"
"$FSX" "$M/fsx2.dat" "$P/fsx2.dat" 1500 11 || fail "fsx 2"
lap; echo "ok fsx"

# 6. Unmount, verify offline, remount, compare again.
vol_umount "$M"
"$WARD" volume check "$B" --key-file "$KEY" --registry "$REG" >"$T/check.out" ||
	fail "offline check: $(cat "$T/check.out")"
tail -1 "$T/check.out"
vol_mount "$B" "$M" || fail "remount"
diff -r --no-dereference "$SRC" "$M/$(basename $SRC)" >/dev/null || fail "tree differs after remount"
cmp "$M/fsx.dat" "$P/fsx.dat" || fail "fsx file differs after remount"
[ "$(sqlite3 "$M/test.db" 'PRAGMA integrity_check;')" = ok ] || fail "sqlite after remount"
[ "$(cat "$M/hard")" = one ] && [ "$(readlink "$M/sym")" = a ] || fail "links after remount"
vol_umount "$M"
lap; echo "ok remount: everything identical, offline check passes"
echo PASS
