#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ward run against a real coordinator (skipped until [coordinator] is in the
# build): ward convert with the image key as JWE recipient; the coordinator
# on the sim TEE with a manifest accepting the converted image's sim
# measurement, a password and a certificate for the workload, and the image
# key as a KBS resource. ward-init attests (KBS), gets the bundle and the
# image key, decrypts and runs the app with the manifest's secrets; with the
# measurement gone from the manifest it is refused before anything runs.
# The coordinator's pin is measured into each image (convert
# --coordinator-pin). Then nginx serving HTTPS with the coordinator-issued
# certificate, and redis with --requirepass from a manifest argv template.
source "$(dirname "$0")/test-run-lib.sh" "$1" "$2"
"$WARD" coordinator --help 2>&1 | grep -qi 'not available in this build' &&
	skip "this build has no coordinator ([coordinator])"
strings "$WARD_INIT" | grep -q 'coordinator.pem' || skip "ward-init without the KBS transport"
export WARD_CONFIG_HOME=$T/cfg WARD_SIM_STATE=$T/sim WARD_CACHE_ROOT=$T/cache
coord_start
check convert 0 "$WARD" convert -q --ward-init "$WARD_INIT" --recipient "jwe:$T/img.pub" \
	--coordinator-pin "$PIN" "$IMAGES/tiny/oci" -o "$T/conv"
WM=$(sim_meas "$T/conv")
python3 - "$T" "$WM" <<'EOP'
import json, sys
t, wm = sys.argv[1], sys.argv[2]
m = {"packages": {"web": {"tees": ["sim"], "measurements": {"sim": [wm]}, "debug": False}},
     "secrets": {"db.password": {"type": "password", "size": 20},
                 "web.tls": {"type": "cert", "cert": {"subject": "CN=web", "dns": ["web.local"]}},
                 "imgkey": {"type": "user", "resource": "default/image-key/web", "packages": ["web"]}},
     "workloads": {"web": {"package": "web",
                           "argv": ["sh", "-c", "echo password-from-manifest: ${#PW} chars; head -1 /etc/web.pem; exit 4"],
                           "env": {"PW": "{{ secret.db.password }}"},
                           "files": {"/etc/web.pem": "{{ pem secret.web.tls.cert }}"}}},
     "users": {"admin": {"public_key": open(t + "/admin.pub").read(), "roles": ["admin"]}},
     "roles": {"admin": {"actions": ["update_manifest", "set_secret", "read_secret", "read_log"], "secrets": ["*"]}}}
json.dump(m, open(t + "/m.json", "w"))
EOP
check manifest-set 0 "$WARD" manifest set "$T/m.json" --coordinator "$URL"
check image-key 0 "$WARD" secret set imgkey --value-file "$T/img.key" --coordinator "$URL" \
	--user admin --key "$T/admin.key"
check attested-run 4 "$WARD" run -q --network host --coordinator "$URL" --workload web "$T/conv"
contains attested "attested to $URL (sim)"
contains manifest-secret "password-from-manifest: 20 chars"
contains manifest-file "BEGIN CERTIFICATE"
sed -i "s/$WM/$(printf 'd%.0s' $(seq 96))/" "$T/m.json"
check manifest-update 0 "$WARD" manifest set "$T/m.json" --coordinator "$URL" --user admin --key "$T/admin.key"
check refused 125 "$WARD" run -q --network host --coordinator "$URL" --workload web "$T/conv" -- echo ran
contains refused-reason "is not accepted by package web"
lacks refused-no-exec "^ran$"

# nginx, unmodified, serving HTTPS with the certificate the coordinator
# issued for ward-init's attested key (a file template configures it).
if [ -d "$IMAGES/debian/oci" ]; then
	check convert-nginx 0 "$WARD" convert -q --ward-init "$WARD_INIT" --tag nginx \
		--recipient "jwe:$T/img.pub" --coordinator-pin "$PIN" "$IMAGES/debian/oci" -o "$T/ngx"
	NM=$(sim_meas "$T/ngx")
	P=$(free_port)
	python3 - "$T" "$NM" "$P" <<'EOP'
import json, sys
t, nm, port = sys.argv[1], sys.argv[2], sys.argv[3]
m = json.load(open(t + "/m.json"))
m["packages"]["nginx"] = {"tees": ["sim"], "measurements": {"sim": [nm]}, "debug": False}
m["secrets"]["imgkey"]["packages"] = ["web", "nginx"]
m["secrets"]["imgkey"]["resource"] = "default/image-key/ngx"
site = ("server {\n listen %s ssl;\n ssl_certificate /run/secrets/ward/tls.crt;\n"
        " ssl_certificate_key /run/secrets/ward/tls.key;\n root /var/www/html;\n"
        " index index.nginx-debian.html;\n location = /ca.crt { alias /run/secrets/ward/ca.crt; }\n}\n" % port)
m["workloads"] = {"ngx": {"package": "nginx", "files": {"/etc/nginx/sites-enabled/default": site},
                          "dns": ["web.local"], "ips": ["127.0.0.1"]}}
json.dump(m, open(t + "/m2.json", "w"))
EOP
	check manifest-nginx 0 "$WARD" manifest set "$T/m2.json" --coordinator "$URL" --user admin --key "$T/admin.key"
	check image-key-nginx 0 "$WARD" secret set imgkey --value-file "$T/img.key" --coordinator "$URL" \
		--user admin --key "$T/admin.key"
	check nginx-start 0 "$WARD" run -q -d --name ngx --network host --coordinator "$URL" --workload ngx "$T/ngx"
	check nginx-up 0 wait_for 100 curl -skf "https://127.0.0.1:$P/"
	curl -sk "https://127.0.0.1:$P/ca.crt" >"$T/ca.crt"
	check nginx-https 0 curl -sf --cacert "$T/ca.crt" "https://127.0.0.1:$P/"
	contains nginx-https "Welcome to nginx"
	echo | openssl s_client -connect "127.0.0.1:$P" 2>/dev/null | openssl x509 -noout -issuer >"$OUT"
	contains nginx-issuer "Ward Coordinator Intermediate CA"
	check nginx-stop 0 "$WARD" stop ngx

	# redis, unmodified, with its password from the manifest: an argv
	# template puts the coordinator-generated secret on redis-server's
	# command line inside the TEE; the client fetches it with ward secret
	# get. (--network host: the coordinator is on the host's loopback.)
	check convert-redis 0 "$WARD" convert -q --ward-init "$WARD_INIT" --tag redis \
		--recipient "jwe:$T/img.pub" --coordinator-pin "$PIN" "$IMAGES/debian/oci" -o "$T/red"
	RP=$(free_port)
	python3 - "$T" "$(sim_meas "$T/red")" "$RP" <<'EOP'
import json, sys
t, rm, port = sys.argv[1], sys.argv[2], sys.argv[3]
m = json.load(open(t + "/m2.json"))
m["packages"]["redis"] = {"tees": ["sim"], "measurements": {"sim": [rm]}, "debug": False}
m["secrets"]["redis.password"] = {"type": "password", "size": 24}
m["secrets"]["imgkey-red"] = {"type": "user", "resource": "default/image-key/red", "packages": ["redis"]}
m["workloads"]["red"] = {"package": "redis",
                         "argv": ["redis-server", "--port", port, "--protected-mode", "no", "--save", "",
                                  "--appendonly", "no", "--requirepass", "{{ secret.redis.password }}"]}
json.dump(m, open(t + "/m3.json", "w"))
EOP
	check manifest-redis 0 "$WARD" manifest set "$T/m3.json" --coordinator "$URL" --user admin --key "$T/admin.key"
	check image-key-redis 0 "$WARD" secret set imgkey-red --value-file "$T/img.key" --coordinator "$URL" \
		--user admin --key "$T/admin.key"
	check redis-password 0 "$WARD" secret get redis.password --out "$T/redis.pw" --coordinator "$URL" \
		--user admin --key "$T/admin.key"
	# a generated secret comes as its record: {"created", "type", "value"}
	RPW=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["value"])' "$T/redis.pw")
	[ "${#RPW}" = 24 ] || { echo "FAIL redis-password: ${#RPW} chars, expected 24"; fail=1; }
	check redis-start 0 "$WARD" run -q -d --name red --network host --coordinator "$URL" --workload red "$T/red"
	check redis-up 0 wait_for 100 sh -c "redis-cli -p $RP -a '$RPW' --no-auth-warning ping | grep -q PONG"
	check redis-set 0 redis-cli -p "$RP" -a "$RPW" --no-auth-warning set k from-manifest
	check redis-get 0 redis-cli -p "$RP" -a "$RPW" --no-auth-warning get k
	contains redis-get from-manifest
	check redis-wrong-password 0 redis-cli -p "$RP" -a wrong-password --no-auth-warning get k
	contains redis-wrong-password "WRONGPASS"
	lacks redis-wrong-password from-manifest
	check redis-no-password 0 redis-cli -p "$RP" get k
	contains redis-no-password "NOAUTH"
	check redis-argv-in-tee 0 "$WARD" logs red
	lacks redis-argv-in-tee "$RPW"
	check redis-stop 0 "$WARD" stop red
fi
exit $fail
