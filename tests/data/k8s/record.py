#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
Records the event streams in this directory with the real kubectl.

There is no cluster here, so this plays a minimal Kubernetes API server on
127.0.0.1 (discovery, LIST and WATCH of the five kinds ambit syncs, with
the objects of the scenario below) and runs the installed kubectl against
it exactly as scripts/ambit-k8s-watch does:
    kubectl get KIND -A --watch --output-watch-events -o json
    kubectl get KIND -A --watch-only --output-watch-events -o json
    kubectl get KIND -A -o json
What kubectl prints is saved as is: its own JSON printer decides the shape
(one compact event a line; objects with sorted keys; list items given
their kind). Run it again after changing the scenario:
    python3 tests/data/k8s/record.py
"""
import copy, http.server, json, os, socketserver, subprocess, sys, tempfile
import threading, urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = "2025-06-20T09:14:%02dZ"

# ---- objects as the API server stores them -------------------------------

def meta(name, ns, uid, rv, sec, labels=None, extra=None):
    m = {"name": name, "uid": uid, "resourceVersion": str(rv),
         "creationTimestamp": T0 % sec}
    if ns:
        m["namespace"] = ns
    if labels:
        m["labels"] = labels
    m.update(extra or {})
    return m

def managed(manager, op, sec):
    return [{"manager": manager, "operation": op, "apiVersion": "v1",
             "time": T0 % sec, "fieldsType": "FieldsV1",
             "fieldsV1": {"f:spec": {"f:ports": {}, "f:selector": {}}}}]

def service(ns, name, uid, rv, ip, sec, mf=False, proto="TCP"):
    extra = {"managedFields": managed("kubectl-client-side-apply", "Update",
                                      sec)} if mf else None
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": meta(name, ns, uid, rv, sec, {"app": name}, extra),
            "spec": {"clusterIP": ip, "clusterIPs": [ip],
                     "internalTrafficPolicy": "Cluster",
                     "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                     "ports": [{"name": "http", "port": 80, "protocol": proto,
                                "targetPort": 8080}],
                     "selector": {"app": name}, "sessionAffinity": "None",
                     "type": "ClusterIP"},
            "status": {"loadBalancer": {}}}

def slice_(ns, name, svc, uid, rv, addrs, sec, atype="IPv4", ready=True):
    eps = [{"addresses": [a], "nodeName": "node-1",
            "conditions": {"ready": ready, "serving": ready,
                           "terminating": False},
            "targetRef": {"kind": "Pod", "namespace": ns,
                          "name": "%s-6d4cf56db6-%d" % (svc, i),
                          "uid": "0b1c2d3e-0000-4000-8000-%012d" % (rv + i)}}
           for i, a in enumerate(addrs)]
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "addressType": atype, "endpoints": eps,
            "metadata": meta(name, ns, uid, rv, sec, {
                "endpointslice.kubernetes.io/managed-by":
                    "endpointslice-controller.k8s.io",
                "kubernetes.io/service-name": svc},
                {"generateName": svc + "-",
                 "ownerReferences": [{"apiVersion": "v1", "kind": "Service",
                                      "name": svc, "blockOwnerDeletion": True,
                                      "controller": True,
                                      "uid": "svc-" + uid[4:]}]}),
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}

def route(ns, name, uid, rv, gen, backend, sec):
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": meta(name, ns, uid, rv, sec, None, {"generation": gen}),
            "spec": {"parentRefs": [{"group": "", "kind": "Service",
                                     "name": "web", "port": 80}],
                     "rules": [{"backendRefs": [{"group": "", "kind": "Service",
                                                 "name": backend, "port": 80,
                                                 "weight": 1}],
                                "matches": [{"path": {"type": "PathPrefix",
                                                      "value": "/"}}]}]},
            "status": {"parents": []}}

def namespace(name, uid, rv, sec, labels=None):
    lb = {"kubernetes.io/metadata.name": name}
    lb.update(labels or {})
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": meta(name, None, uid, rv, sec, lb),
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"}}

def pod(ns, name, uid, rv, ip, sec, labels=None):
    lb = {"app": name.split("-")[0]}
    lb.update(labels or {})
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": meta(name, ns, uid, rv, sec, lb),
            "spec": {"containers": [{"name": "app", "image": "busybox:1.36",
                                     "command": ["sleep", "infinity"],
                                     "resources": {}}],
                     "dnsPolicy": "ClusterFirst", "nodeName": "node-1",
                     "restartPolicy": "Always", "schedulerName":
                     "default-scheduler", "serviceAccountName": "default"},
            "status": {"phase": "Running", "hostIP": "192.0.2.10",
                       "hostIPs": [{"ip": "192.0.2.10"}], "podIP": ip,
                       "podIPs": [{"ip": ip}], "qosClass": "BestEffort",
                       "startTime": T0 % sec,
                       "conditions": [{"type": "Ready", "status": "True",
                                       "lastTransitionTime": T0 % sec}]}}

def uid(n):
    return "%08x-7c1a-4e5b-9d2f-%012x" % (0x5e1d0000 + n, n)

def bump(obj, rv, **labels):
    o = copy.deepcopy(obj)
    o["metadata"]["resourceVersion"] = str(rv)
    if labels:
        o["metadata"].setdefault("labels", {}).update(labels)
    for k, v in list(o["metadata"].get("labels", {}).items()):
        if v is None:
            del o["metadata"]["labels"][k]
    return o

# ---- the scenario ------------------------------------------------------------

SVC_WEB = service("shop", "web", uid(1), 1201, "127.96.10.1", 1, mf=True)
SVC_V1 = service("shop", "web-v1", uid(2), 1202, "127.96.10.2", 2, mf=True)
SVC_V2 = service("shop", "web-v2", uid(3), 1305, "127.96.10.3", 30)
SVC_ECHO = service("mesh", "echo", uid(4), 1203, "127.96.20.1", 3)
EPS_WEB = slice_("shop", "web-7xk2p", "web", uid(11), 1210, ["127.0.10.3"], 4)
EPS_V1 = slice_("shop", "web-v1-9f8wq", "web-v1", uid(12), 1211,
                ["127.0.10.1"], 5)
EPS_V2 = slice_("shop", "web-v2-4mzlt", "web-v2", uid(13), 1306,
                ["127.0.10.2"], 31)
EPS_ECHO = slice_("mesh", "echo-b5m2k", "echo", uid(14), 1212,
                  ["198.18.1.1"], 6)
RT_V2 = route("shop", "web", uid(21), 1220, 1, "web-v2", 7)
RT_V1 = route("shop", "web", uid(21), 1402, 2, "web-v1", 7)

NS_SHOP = namespace("shop", uid(31), 1101, 0)
NS_MESH = namespace("mesh", uid(32), 1102, 0,
                    {"istio.io/dataplane-mode": "ambient"})
NS_PLAIN = namespace("plain", uid(33), 1103, 0)
POD_A = pod("mesh", "client-a", uid(41), 1501, "198.18.1.2", 10)
POD_B = pod("plain", "client-b", uid(42), 1502, "198.18.2.2", 11)
POD_C = pod("mesh", "client-c", uid(43), 1503, "198.18.3.2", 12,
            {"istio.io/dataplane-mode": "none"})
POD_D = pod("mesh", "client-d", uid(44), 1504, "198.18.4.2", 13)
POD_E = pod("mesh", "client-e", uid(45), 1601, "198.18.5.2", 20,
            {"ambit.io/mode": "none"})
POD_HOST = pod("mesh", "node-agent", uid(46), 1505, "192.0.2.10", 14)
POD_HOST["spec"]["hostNetwork"] = True

def ev(t, o):
    return {"type": t, "object": o}

# Each file: segments of (resource, --watch|--watch-only|list, list, events).
# A segment prints what kubectl prints for one kind; a file is the segments
# one after the other (one sync may carry several kinds).
SCENARIO = {
    # Services, EndpointSlices, HTTPRoutes: a route that names web-v2, which
    # does not exist yet.
    "a01-list.jsonl": [
        ("services", "watch", [SVC_WEB, SVC_V1, SVC_ECHO], [], True),
        ("endpointslices", "watch", [EPS_WEB, EPS_V1, EPS_ECHO], [], False),
        ("httproutes", "watch", [RT_V2], [], False)],
    # web-v2 arrives: the route resolves.
    "a02-v2-arrives.jsonl": [
        ("services", "watch-only", [], [ev("ADDED", SVC_V2)], False),
        ("endpointslices", "watch-only", [], [ev("ADDED", EPS_V2)], False)],
    # The route moves to web-v1 (generation 2); then a MODIFIED older than
    # that (resourceVersion 1399, still naming web-v2) comes late.
    "a03-route-update.jsonl": [
        ("httproutes", "watch-only", [],
         [ev("MODIFIED", RT_V1), ev("MODIFIED", bump(RT_V2, 1399))], False)],
    # The route and web-v2 are deleted.
    "a04-deletions.jsonl": [
        ("httproutes", "watch-only", [], [ev("DELETED", bump(RT_V1, 1501))],
         False),
        ("services", "watch-only", [], [ev("DELETED", bump(SVC_V2, 1502))],
         False),
        ("endpointslices", "watch-only", [],
         [ev("DELETED", bump(EPS_V2, 1503))], False)],
    # A new watch after a restart lists what exists: web-v1 was deleted
    # while nobody watched.
    "a05-relist.jsonl": [
        ("services", "watch", [SVC_WEB, SVC_ECHO], [], False),
        ("endpointslices", "watch", [EPS_WEB, EPS_ECHO], [], False)],
    # Namespaces and Pods: mesh is ambient, plain is not; client-c opts out;
    # client-d existed before ambitd (found by its address); node-agent
    # shares the node's namespace.
    "b01-list.jsonl": [
        ("namespaces", "watch", [NS_SHOP, NS_MESH, NS_PLAIN], [], False),
        ("pods", "watch", [POD_A, POD_B, POD_C, POD_D, POD_HOST], [], False)],
    # client-e's Pod arrives after CNI attached it: it opts out.
    "b02-pod-e.jsonl": [
        ("pods", "watch-only", [], [ev("ADDED", POD_E)], False)],
    # client-b opts in by pod label; mesh loses its label.
    "b03-labels.jsonl": [
        ("pods", "watch-only", [],
         [ev("MODIFIED", bump(POD_B, 1701, **{"ambit.io/mode": "ambient"}))],
         False),
        ("namespaces", "watch-only", [],
         [ev("MODIFIED", bump(NS_MESH, 1702,
                              **{"istio.io/dataplane-mode": None}))], False)],
    # Good objects around objects ambit refuses: an SCTP port (valid
    # Kubernetes, nothing ambit can redirect), an FQDN EndpointSlice, and a
    # Service whose clusterIP another one already has.
    "bad-objects.jsonl": [
        ("services", "watch-only", [], [
            ev("ADDED", service("shop", "good-a", uid(51), 1801,
                                "127.96.11.1", 40)),
            ev("ADDED", service("shop", "sctp", uid(52), 1802,
                                "127.96.11.9", 41, proto="SCTP")),
            ev("ADDED", service("shop", "dup-ip", uid(53), 1803,
                                "127.96.11.1", 42)),
            ev("ADDED", service("shop", "good-b", uid(54), 1804,
                                "127.96.11.2", 43))], False),
        ("endpointslices", "watch-only", [], [
            ev("ADDED", slice_("shop", "good-b-x7p2q", "good-b", uid(55),
                               1805, ["127.0.11.2"], 44)),
            ev("ADDED", slice_("shop", "fqdn-h4k9s", "good-b", uid(56), 1806,
                               ["db.example.com"], 45, atype="FQDN"))],
         False)],
    # The API server ends a watch that fell too far behind with an ERROR
    # event carrying a Status (410 Gone): the watch must restart.
    "error-expired.jsonl": [
        ("services", "watch-only", [], [
            ev("ADDED", service("shop", "before-error", uid(61), 1901,
                                "127.96.12.1", 50)),
            ev("ERROR", {"kind": "Status", "apiVersion": "v1",
                         "metadata": {}, "status": "Failure",
                         "message": "too old resource version: 1200 (1900)",
                         "reason": "Expired", "code": 410})], False)],
}

# Made from recorded ones: a stream cut in the middle of an event, and the
# same events pretty-printed back to back (as `jq .` or older tools print).
DERIVED = {
    "truncated.jsonl": lambda: open(os.path.join(HERE, "a02-v2-arrives.jsonl"),
                                    "rb").read()[:-300],
    "pretty.json": lambda: b"".join(
        json.dumps(json.loads(l), indent=4).encode() + b"\n"
        for l in open(os.path.join(HERE, "a02-v2-arrives.jsonl"), "rb")),
}

# List files (kubectl get KIND -A -o json) for the watch loop's resync.
LISTS = {
    "list-services-1.json": ("services", [SVC_WEB, SVC_V1, SVC_ECHO]),
    "list-services-2.json": ("services", [SVC_WEB, SVC_ECHO]),
    "list-namespaces.json": ("namespaces", [NS_SHOP, NS_MESH, NS_PLAIN]),
    "list-httproutes-empty.json": ("httproutes", []),
}

# ---- a minimal API server --------------------------------------------------------

GROUPS = {
    ("", "v1"): [("services", "Service", True), ("pods", "Pod", True),
                 ("namespaces", "Namespace", False)],
    ("discovery.k8s.io", "v1"): [("endpointslices", "EndpointSlice", True)],
    ("gateway.networking.k8s.io", "v1"): [("httproutes", "HTTPRoute", True)],
}
STATE = {}  # resource -> (list items, watch events)

def strip_kind(o):
    o = copy.deepcopy(o)  # LIST items come without apiVersion and kind
    o.pop("apiVersion"); o.pop("kind")
    return o

class Api(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_json(self, obj, code=200):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def discovery(self, p):
        if p == "/version":
            return {"major": "1", "minor": "32", "gitVersion": "v1.32.4"}
        if p == "/api":
            return {"kind": "APIVersions", "versions": ["v1"]}
        if p == "/apis":
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": g + "/" + v,
                                          "version": v}],
                 "preferredVersion": {"groupVersion": g + "/" + v,
                                      "version": v}}
                for (g, v) in GROUPS if g]}
        for (g, v), rs in GROUPS.items():
            if p == ("/api/v1" if not g else "/apis/%s/%s" % (g, v)):
                return {"kind": "APIResourceList", "apiVersion": "v1",
                        "groupVersion": (g + "/" if g else "") + v,
                        "resources": [{"name": n, "singularName": "",
                                       "namespaced": ns, "kind": k,
                                       "verbs": ["get", "list", "watch"]}
                                      for (n, k, ns) in rs]}
        return None

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        d = self.discovery(u.path)
        if d is not None:
            return self.send_json(d)
        for (g, v), rs in GROUPS.items():
            base = "/api/v1" if not g else "/apis/%s/%s" % (g, v)
            for (n, k, _) in rs:
                if u.path != base + "/" + n:
                    continue
                items, events = STATE[n]
                if q.get("watch"):
                    return self.watch(events)
                return self.send_json({
                    "kind": k + "List", "apiVersion": (g + "/" if g else "") + v,
                    "metadata": {"resourceVersion": "1900"},
                    "items": [strip_kind(o) for o in items]})
        self.send_json({"kind": "Status", "status": "Failure", "code": 404}, 404)

    def watch(self, events):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for e in events:
            b = (json.dumps(e) + "\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
        self.wfile.write(b"0\r\n\r\n")  # the watch ends, kubectl exits

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

def kubectl(tmp, port, args):
    cfg = os.path.join(tmp, "kubeconfig")
    with open(cfg, "w") as f:
        f.write("apiVersion: v1\nkind: Config\nclusters: [{name: r, cluster: "
                "{server: 'http://127.0.0.1:%d'}}]\ncontexts: [{name: r, "
                "context: {cluster: r, user: r}}]\nusers: [{name: r, user: "
                "{}}]\ncurrent-context: r\n" % port)
    return subprocess.run(["kubectl", "--kubeconfig", cfg, "--cache-dir",
                           os.path.join(tmp, "cache")] + args, check=True,
                          capture_output=True, timeout=60).stdout

def main():
    srv = Server(("127.0.0.1", 0), Api)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    with tempfile.TemporaryDirectory() as tmp:
        for fname, segs in SCENARIO.items():
            out = b""
            for (res, how, items, events, show_mf) in segs:
                STATE[res] = (items, events)
                args = ["get", res, "-A", "--" + how, "--output-watch-events",
                        "-o", "json"]
                if show_mf:
                    args.append("--show-managed-fields")
                out += kubectl(tmp, port, args)
            open(os.path.join(HERE, fname), "wb").write(out)
            print("recorded", fname, file=sys.stderr)
        for fname, (res, items) in LISTS.items():
            STATE[res] = (items, [])
            out = kubectl(tmp, port, ["get", res, "-A", "-o", "json"])
            open(os.path.join(HERE, fname), "wb").write(out)
            print("recorded", fname, file=sys.stderr)
    for fname, make in DERIVED.items():
        open(os.path.join(HERE, fname), "wb").write(make())
        print("made", fname, file=sys.stderr)
    srv.shutdown()

if __name__ == "__main__":
    main()
