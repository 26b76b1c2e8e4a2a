#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Updates under load lose nothing. For SOAK_SECS seconds (default 30; the
# sanitizer rerun in tests/run.sh passes 10) a loop makes configuration
# generation after generation (apply a route with new EndpointSlices,
# delete the route, ...) while enrolled clients hammer an L7 Service (by
# that route, through ambit-proxy) and an L4 one (plain Service balancing
# in BPF). Every generation N identifies itself:
#   - its route sets the request header x-gen: N and sends to a backend set
#     of its own (disjoint from the generation before and after), and the
#     echo backends reflect the header and their name;
#   - the L4 Service's only endpoint moves with it;
#   - every 4th generation deletes the route: the Service falls back to its
#     own endpoint (soak-c1), with no x-gen.
# The loop writes "BEGUN DONE" generation numbers around each change, and
# the clients (ambit-probe -g) note them before and after each attempt, so
# every answer is checked against the generations that were in force while
# it ran: no failed connect or request (there is always an endpoint), and
# every answer consistent with exactly one generation of its window, never
# with a mix (a header of one generation and a backend of another).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/clients.sh"

SOAK_SECS=${SOAK_SECS:-30}
MIN_GENS=12 # whatever the clock says: three route deletions at least
SOAK_VIP=127.96.6.1:80
PLAIN_VIP=127.96.6.4:80
GEN=$T/generation

# ---- the generations ---------------------------------------------------------
# Route generations N%4 = 1, 3 send to soak-a, N%4 = 2 to soak-b; the
# endpoint of each moves so that neighbouring generations never share a
# backend. N%4 = 0 deletes the route. The same rules, for the checker, are
# in the awk functions below.

a_ep() { [ $(($1 % 4)) = 1 ] && echo 127.0.7.1 || echo 127.0.7.2; }
b_ep() { [ $(($1 / 4 % 2)) = 0 ] && echo 127.0.7.3 || echo 127.0.7.4; }
p_ep() { echo "127.0.7.1$(($1 % 3))"; } # the L4 Service's endpoint
target() { [ $(($1 % 4)) = 2 ] && echo soak-b || echo soak-a; }

GEN_AWK='
function kind(g) { return g % 4 == 0 ? "delete" : "route" }
function l7_backend(g) {
	if (g % 4 == 0) return "soak-c1"
	if (g % 4 == 2) return int(g / 4) % 2 == 0 ? "soak-b1" : "soak-b2"
	return g % 4 == 1 ? "soak-a1" : "soak-a2"
}
function l4_backend(g) { if (g % 4 == 0) g--; return "plain-p" g % 3 }
'

services_yaml() {
	local s name ip
	for s in "soak 127.96.6.1" "soak-a 127.96.6.2" "soak-b 127.96.6.3"; do
		read -r name ip <<<"$s"
		cat <<EOF
apiVersion: v1
kind: Service
metadata: {name: $name}
spec: {clusterIP: $ip, ports: [{name: http, port: 80, targetPort: 8080}]}
---
EOF
	done
	cat <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: plain}
spec: {clusterIP: 127.96.6.4, ports: [{name: echo, port: 80, targetPort: 7000}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: soak, labels: {kubernetes.io/service-name: soak}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [127.0.7.5]}]
EOF
}

slice_yaml() { # SERVICE PORT-NAME PORT ADDRESS
	cat <<EOF
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: $1, labels: {kubernetes.io/service-name: $1}}
addressType: IPv4
ports: [{name: $2, port: $3}]
endpoints: [{addresses: [$4]}]
EOF
}

route_yaml() { # GEN
	cat <<EOF
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: soak}
spec:
  parentRefs: [{group: "", kind: Service, name: soak, port: 80}]
  rules:
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-gen, value: "$1"}]}
    backendRefs: [{name: $(target "$1"), port: 80}]
EOF
}

# A route generation: its route and every moved endpoint, in one apply.
generation_yaml() { # GEN
	route_yaml "$1"
	echo ---
	slice_yaml soak-a http 8080 "$(a_ep "$1")"
	echo ---
	slice_yaml soak-b http 8080 "$(b_ep "$1")"
	echo ---
	slice_yaml plain echo 7000 "$(p_ep "$1")"
}

gen_file() { # BEGUN DONE, replaced by rename: readers see one or the other
	echo "$1 $2" >"$GEN.tmp" && mv "$GEN.tmp" "$GEN"
}

# ---- the proxy's view ----------------------------------------------------------
# The proxy follows the configuration a moment after an apply returns. A
# generation counts as done once the proxy serves it: a sentinel keeps one
# keep-alive connection to the proxy (opened while the route existed, so
# it stays with the proxy even when the Service falls back to L4) and asks
# until the answer is the generation's.

SENTINEL_LAST=

start_sentinel() {
	coproc SENTINEL { bash -c "$IN_CG" "$NSPATH" "$CG/client" "$PROBE" http \
		"$SOAK_VIP" /sentinel -k -s 2>&1; }
	BG_PIDS+=("$SENTINEL_PID")
}

sentinel_sees() { # GEN: one request; 0 when the proxy served GEN
	local line want
	echo >&"${SENTINEL[1]}" || return 2
	read -r -t 10 line <&"${SENTINEL[0]}" || return 2
	SENTINEL_LAST=$line
	[[ $line == *" conn=1" ]] || return 2 # its connection must stay
	if [ $(($1 % 4)) = 0 ]; then want="ok soak-c1 status=200 gen=- "
	else want="ok $(awk "$GEN_AWK"' { print l7_backend($1) }' <<<"$1") status=200 gen=$1 "; fi
	[[ $line == "$want"* ]]
}

sentinel_wait() { # GEN
	local rc
	for _ in $(seq 1 200); do
		sentinel_sees "$1"
		rc=$?
		[ "$rc" = 0 ] && return 0
		[ "$rc" = 2 ] && break
		sleep 0.05
	done
	echo "# the proxy never served generation $1 (sentinel: $SENTINEL_LAST)"
	return 1
}

# ---- the clients ---------------------------------------------------------------

start_clients() {
	start_probe l7-keepalive http "$SOAK_VIP" /ka -k -g "$GEN"
	start_probe l7-per-conn http "$SOAK_VIP" /pc -g "$GEN"
	start_probe l4 tcp "$PLAIN_VIP" -g "$GEN"
	start_wrk "http://$SOAK_VIP/wrk"
}

# ---- checking every answer ---------------------------------------------------

# Prints "checked N bad M cut C gens K" then up to 5 bad lines. An L7
# answer is good when it is a 200 and either carries x-gen G, G in its
# window, from G's backend; or carries none, from the Service's own
# endpoint, and a route-less generation was in force since its connection
# was opened (a connection made then went straight to that endpoint: L4
# decides per connection). An L4 answer is good when it came from the
# endpoint of a generation in its window.
# A connection cut after it was made (the L4 probe's "(no data)", an L7
# ECONNABORTED, ...) is not a failure only when an endpoint it may have
# used was removed during the attempt: ambitd closes connections to
# removed endpoints (README: Removed endpoints). Those are counted apart.
check_answers() { # FILE
	awk "$GEN_AWK"'
	function field(k,   i) { for (i = 3; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return "" }
	function range(k, lohi) { split(field(k), lohi, "-"); LO = lohi[1] + 0; HI = lohi[2] + 0 }
	function l7_ok(   g, d) {
		g = field("gen")
		if (field("status") != "200") return 0
		range("win")
		if (g != "-") {
			g += 0
			seen[g] = 1
			return kind(g) == "route" && g >= LO && g <= HI && $2 == l7_backend(g)
		}
		hi = HI
		range("cwin")
		for (d = hi; d >= LO; d--) if (kind(d) == "delete") { seen[d] = 1; return $2 == "soak-c1" }
		return 0
	}
	function l4_ok(   g) {
		range("win")
		for (g = LO; g <= HI; g++) if ($2 == l4_backend(g)) { seen[g] = 1; return 1 }
		return 0
	}
	function cut() {
		return $1 == "ok" && $2 == "(no" ||
		       $1 == "err" && $2 ~ /^(ECONNABORTED|ECONNRESET|EPIPE|EOF)$/ && field("status") == "-1"
	}
	# Was an endpoint removed while it ran? L4: the endpoint moved; L7:
	# the route came back, so the Service own endpoint left.
	function removal_during(   g, hi) {
		range("win")
		hi = HI
		if (field("cwin") != "") range("cwin")
		for (g = LO + 1; g <= hi; g++) {
			if (field("status") == "" && l4_backend(g) != l4_backend(g - 1)) return 1
			if (field("status") != "" && kind(g - 1) == "delete" && kind(g) == "route") return 1
		}
		return 0
	}
	{ n++ }
	$1 == "ok" && $2 != "(no" && (field("status") != "" ? l7_ok() : l4_ok()) { next }
	cut() && removal_during() { cuts++; next }
	{ bad++; if (bad <= 5) ex = ex "\n#   " $0 }
	END { for (g in seen) k++; printf "checked %d bad %d cut %d gens %d%s\n", n, bad, cuts, k, ex }
	' "$1"
}

check_client() { # NAME
	local out n bad gens
	out=$(check_answers "$T/cl.$1")
	read -r _ n _ bad _ cuts _ gens <<<"$(head -n1 <<<"$out")"
	check "$1: $n answers checked over $gens generations, none failed or inconsistent ($bad bad; $cuts cut by an endpoint removal)" \
		test "$n" -gt 0 -a "$bad" = 0 -a "$gens" -ge "$MIN_GENS"
	[ "$bad" = 0 ] || tail -n +2 <<<"$out"
}

# ---- the tests ---------------------------------------------------------------

test_01_setup() {
	local b name ip
	for b in "a1 127.0.7.1" "a2 127.0.7.2" "b1 127.0.7.3" "b2 127.0.7.4" "c1 127.0.7.5"; do
		read -r name ip <<<"$b"
		backend "soak-$name" --listen "$ip:8080"
	done
	for b in 0 1 2; do backend "plain-p$b" --mode tcp --listen "127.0.7.1$b:7000"; done
	check "daemon starts with a proxy port${L7_NO_FAST_PATH:+, without the sockmap fast path}" \
		start_daemon --proxy-port "$PROXY_PORT" ${L7_NO_FAST_PATH:+--no-sockmap}
	check "services apply" apply < <(services_yaml)
	check "generation 1 applies" apply < <(generation_yaml 1)
	check "enroll client cgroup" ambit enroll --cgroup "$CG/client" --name client
	check "proxy starts" start_proxy
	start_sentinel
	check "the proxy serves generation 1" sentinel_wait 1
	gen_file 1 1
}

# One generation: announce it, make it, wait until the proxy has it.
next_generation() { # GEN
	local g=$1 out
	gen_file "$g" $((g - 1))
	if [ $((g % 4)) = 0 ]; then
		out=$(route_yaml $((g - 1)) | ambit delete -f - 2>&1)
	else
		out=$(generation_yaml "$g" | ambit apply -f - 2>&1)
	fi || { echo "# generation $g: $out"; return 1; }
	sentinel_wait "$g" || return 1
	gen_file "$g" "$g"
}

test_02_soak() {
	local g=1 err=
	start_clients
	check "clients run" progress 20
	SECONDS=0
	while [ "$SECONDS" -lt "$SOAK_SECS" ] || [ "$g" -lt "$MIN_GENS" ]; do
		g=$((g + 1))
		next_generation "$g" || { err="generation $g failed"; break; }
		progress 1 || { err="clients stalled at generation $g"; break; }
	done
	stop_clients
	eval "exec ${SENTINEL[1]}>&-" # EOF: the sentinel ends
	wait "$SENTINEL_PID" 2>/dev/null
	check "$g generations in ${SECONDS}s (SOAK_SECS=$SOAK_SECS)${err:+: $err}" [ -z "$err" ]
	check_client l7-keepalive
	check_client l7-per-conn
	check_client l4
	check_wrk ""
	check "the keep-alive client kept one connection through every change" \
		bash -c "! grep -qv ' conn=1 ' '$T/cl.l7-keepalive'"
}

e2e_setup
e2e_run
