// SPDX-License-Identifier: Apache-2.0
/* ambit-cni: environment, configuration, versions and output JSON. */
#include "cni.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ambit/pin.h"

/* Chaining (prevResult) came with 0.3.0; CHECK with 0.4.0. */
static const char *const supported_versions[] = { "0.3.0", "0.3.1", "0.4.0",
						  "1.0.0" };
#define N_VERSIONS (sizeof(supported_versions) / sizeof(supported_versions[0]))

static const char *const cmd_names[] = {
	[CNI_CMD_NONE] = "?", [CNI_CMD_ADD] = "ADD", [CNI_CMD_DEL] = "DEL",
	[CNI_CMD_CHECK] = "CHECK", [CNI_CMD_VERSION] = "VERSION",
};

enum cni_cmd cni_cmd_parse(const char *s)
{
	enum cni_cmd c;

	for (c = CNI_CMD_ADD; s && c <= CNI_CMD_VERSION; c++) {
		if (!strcmp(s, cmd_names[c]))
			return c;
	}
	return CNI_CMD_NONE;
}

const char *cni_cmd_name(enum cni_cmd cmd)
{
	return cmd_names[cmd];
}

void cni_error_set(struct cni_error *err, int code, const char *details,
		   const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	snprintf(err->details, sizeof(err->details), "%s", details ? details : "");
}

/* ---- environment --------------------------------------------------------- */

static const char *env_or_null(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* The variables the spec requires for @cmd (section 2). */
static int env_require(const struct cni_env *e, struct cni_error *err)
{
	const char *missing = NULL;

	if (!e->container_id)
		missing = "CNI_CONTAINERID";
	else if (!e->ifname)
		missing = "CNI_IFNAME";
	else if (!e->netns && e->cmd != CNI_CMD_DEL)
		missing = "CNI_NETNS";
	if (!missing)
		return 0;
	cni_error_set(err, CNI_ERR_ENV, NULL, "%s is required for %s", missing,
		      cni_cmd_name(e->cmd));
	return -1;
}

int cni_env_read(struct cni_env *e, struct cni_error *err)
{
	memset(e, 0, sizeof(*e));
	e->command = env_or_null("CNI_COMMAND");
	e->cmd = cni_cmd_parse(e->command);
	if (e->cmd == CNI_CMD_NONE && e->command) {
		cni_error_set(err, CNI_ERR_ENV, "expected ADD, DEL, CHECK or VERSION",
			      "unknown CNI_COMMAND '%.64s'", e->command);
		return -1;
	}
	if (e->cmd == CNI_CMD_NONE) {
		cni_error_set(err, CNI_ERR_ENV, "expected ADD, DEL, CHECK or VERSION",
			      "CNI_COMMAND is not set");
		return -1;
	}
	if (e->cmd == CNI_CMD_VERSION)
		return 0;
	e->container_id = env_or_null("CNI_CONTAINERID");
	e->netns = env_or_null("CNI_NETNS");
	e->ifname = env_or_null("CNI_IFNAME");
	e->path = env_or_null("CNI_PATH");
	if (env_require(e, err))
		return -1;
	return cni_args_parse(getenv("CNI_ARGS"), e, err);
}

static char **k8s_field(struct cni_env *e, const char *key, size_t n)
{
	static const struct { const char *key; size_t off; } fields[] = {
		{ "K8S_POD_NAMESPACE", offsetof(struct cni_env, pod_namespace) },
		{ "K8S_POD_NAME", offsetof(struct cni_env, pod_name) },
		{ "K8S_POD_UID", offsetof(struct cni_env, pod_uid) },
		{ "K8S_POD_INFRA_CONTAINER_ID", offsetof(struct cni_env, infra_id) },
	};
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strlen(fields[i].key) == n && !strncmp(fields[i].key, key, n))
			return (char **)((char *)e + fields[i].off);
	}
	return NULL;
}

/* One "KEY=VALUE" of @n bytes at @p. */
static int args_pair(const char *p, size_t n, struct cni_env *e,
		     struct cni_error *err)
{
	const char *eq = memchr(p, '=', n);
	char **field;

	if (!eq || eq == p) {
		cni_error_set(err, CNI_ERR_ENV, "expected KEY=VALUE pairs separated by ';'",
			      "CNI_ARGS: invalid pair '%.*s'", (int)(n > 64 ? 64 : n), p);
		return -1;
	}
	field = k8s_field(e, p, (size_t)(eq - p));
	if (!field)
		return 0; /* not ours: other plugins' arguments */
	if (*field) {
		cni_error_set(err, CNI_ERR_ENV, NULL, "CNI_ARGS: %.*s given twice",
			      (int)(eq - p), p);
		return -1;
	}
	*field = strndup(eq + 1, n - (size_t)(eq - p) - 1);
	if (!*field) {
		cni_error_set(err, CNI_ERR_ENV, NULL, "CNI_ARGS: out of memory");
		return -1;
	}
	return 0;
}

int cni_args_parse(const char *args, struct cni_env *e, struct cni_error *err)
{
	const char *p = args, *end;

	while (p && *p) {
		end = strchrnul(p, ';');
		if (end > p && args_pair(p, (size_t)(end - p), e, err))
			return -1;
		p = *end ? end + 1 : end;
	}
	/* An empty value is as good as none: not a pod we can name. */
	if (e->pod_name && !*e->pod_name) {
		free(e->pod_name);
		e->pod_name = NULL;
	}
	if (e->pod_name && (!e->pod_namespace || !*e->pod_namespace)) {
		cni_error_set(err, CNI_ERR_ENV, NULL,
			      "CNI_ARGS: K8S_POD_NAME without K8S_POD_NAMESPACE");
		return -1;
	}
	return 0;
}

void cni_env_free(struct cni_env *e)
{
	free(e->pod_namespace);
	free(e->pod_name);
	free(e->pod_uid);
	free(e->infra_id);
	e->pod_namespace = e->pod_name = e->pod_uid = e->infra_id = NULL;
}

/* ---- configuration ------------------------------------------------------- */

bool cni_version_supported(const char *v)
{
	size_t i;

	for (i = 0; v && i < N_VERSIONS; i++) {
		if (!strcmp(v, supported_versions[i]))
			return true;
	}
	return false;
}

static bool version_has_check(const char *v)
{
	return strcmp(v, "0.3.0") && strcmp(v, "0.3.1");
}

static int conf_version(struct cni_conf *c, enum cni_cmd cmd,
			struct cni_error *err)
{
	json_t *v = json_object_get(c->root, "cniVersion");

	if (!json_is_string(v)) {
		cni_error_set(err, CNI_ERR_CONFIG, "the runtime copies it from the "
			      "network configuration list", "cniVersion: %s",
			      v ? "must be a string" : "missing");
		return -1;
	}
	c->version = json_string_value(v);
	if (!cni_version_supported(c->version)) {
		cni_error_set(err, CNI_ERR_INCOMPATIBLE,
			      "ambit-cni supports 0.3.0, 0.3.1, 0.4.0, 1.0.0",
			      "incompatible CNI version '%.32s'", c->version);
		return -1;
	}
	if (cmd == CNI_CMD_CHECK && !version_has_check(c->version)) {
		cni_error_set(err, CNI_ERR_INCOMPATIBLE, NULL,
			      "config version %s does not allow CHECK", c->version);
		return -1;
	}
	return 0;
}

/* A string field that must be present and non-empty. */
static const char *conf_required(const json_t *root, const char *key,
				 struct cni_error *err)
{
	json_t *v = json_object_get(root, key);

	if (json_is_string(v) && *json_string_value(v))
		return json_string_value(v);
	cni_error_set(err, CNI_ERR_CONFIG, NULL, "%s: %s", key,
		      v ? "must be a non-empty string" : "missing");
	return NULL;
}

/* Our keys: "socket", "failOpen", "timeoutSeconds"; all optional. */
static int conf_ours(struct cni_conf *c, const char *env_socket,
		     struct cni_error *err)
{
	json_t *sock = json_object_get(c->root, "socket");
	json_t *open = json_object_get(c->root, "failOpen");
	json_t *tmo = json_object_get(c->root, "timeoutSeconds");

	if (sock && (!json_is_string(sock) || !*json_string_value(sock))) {
		cni_error_set(err, CNI_ERR_CONFIG, NULL,
			      "socket: must be a non-empty string (ambitd's socket path)");
		return -1;
	}
	if (open && !json_is_boolean(open)) {
		cni_error_set(err, CNI_ERR_CONFIG, NULL, "failOpen: must be true or false");
		return -1;
	}
	if (tmo && (!json_is_number(tmo) || json_number_value(tmo) <= 0 ||
		    json_number_value(tmo) > 600)) {
		cni_error_set(err, CNI_ERR_CONFIG, NULL,
			      "timeoutSeconds: must be a number in (0, 600]");
		return -1;
	}
	c->socket = sock ? json_string_value(sock) :
		    env_socket && *env_socket ? env_socket : AMBIT_SOCKET_DEFAULT;
	c->fail_open = open && json_is_true(open);
	c->timeout_ms = tmo ? (int)(json_number_value(tmo) * 1000) :
			CNI_DEFAULT_TIMEOUT_MS;
	if (c->timeout_ms < 1)
		c->timeout_ms = 1;
	return 0;
}

/* prevResult: required where there is a result to pass on or check. */
static int conf_prev_result(struct cni_conf *c, enum cni_cmd cmd,
			    struct cni_error *err)
{
	json_t *prev = json_object_get(c->root, "prevResult");

	if (prev && !json_is_object(prev)) {
		cni_error_set(err, CNI_ERR_CONFIG, NULL, "prevResult: must be an object");
		return -1;
	}
	if (!prev && cmd != CNI_CMD_DEL) {
		cni_error_set(err, CNI_ERR_CONFIG,
			      "list ambit-cni after the plugin that creates the "
			      "pod's interface (e.g. bridge) in a .conflist",
			      "prevResult: missing; ambit-cni is a chained plugin");
		return -1;
	}
	c->prev_result = prev;
	return 0;
}

int cni_conf_parse(const char *buf, size_t len, enum cni_cmd cmd,
		   const char *env_socket, struct cni_conf *c,
		   struct cni_error *err)
{
	json_error_t jerr;

	memset(c, 0, sizeof(*c));
	c->root = json_loadb(buf, len, 0, &jerr);
	if (!c->root) {
		cni_error_set(err, CNI_ERR_DECODE, jerr.text,
			      "network configuration: invalid JSON at line %d column %d",
			      jerr.line, jerr.column);
		return -1;
	}
	if (!json_is_object(c->root)) {
		cni_error_set(err, CNI_ERR_DECODE, NULL,
			      "network configuration: not a JSON object");
		return -1;
	}
	if (conf_version(c, cmd, err))
		return -1;
	c->name = conf_required(c->root, "name", err);
	if (!c->name || !conf_required(c->root, "type", err))
		return -1;
	if (conf_ours(c, env_socket, err))
		return -1;
	return conf_prev_result(c, cmd, err);
}

void cni_conf_free(struct cni_conf *c)
{
	json_decref(c->root);
	memset(c, 0, sizeof(*c));
}

/* ---- output -------------------------------------------------------------- */

static char *dump(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return s;
}

char *cni_result_json(const struct cni_conf *c)
{
	json_t *res = json_deep_copy(c->prev_result);

	if (!res || json_object_set_new(res, "cniVersion",
					json_string(c->version))) {
		json_decref(res);
		return NULL;
	}
	return dump(res);
}

static json_t *versions_array(void)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < N_VERSIONS; i++)
		json_array_append_new(a, json_string(supported_versions[i]));
	return a;
}

char *cni_version_json(const char *buf, size_t len, struct cni_error *err)
{
	const char *in_use = CNI_VERSION_LATEST;
	json_error_t jerr;
	json_t *in = NULL, *v;
	char *s;

	if (len) {
		in = json_loadb(buf, len, 0, &jerr);
		v = json_object_get(in, "cniVersion");
		if (!json_is_string(v)) {
			cni_error_set(err, CNI_ERR_DECODE, in ? NULL : jerr.text,
				      "VERSION: stdin must be {\"cniVersion\": \"X.Y.Z\"}");
			json_decref(in);
			return NULL;
		}
		in_use = json_string_value(v);
	}
	/* The spec: cniVersion is the one given on input, whatever it is;
	 * the runtime picks from supportedVersions. */
	s = dump(json_pack("{s:s, s:o}", "cniVersion", in_use,
			   "supportedVersions", versions_array()));
	json_decref(in);
	return s;
}

char *cni_error_json(const char *version, const struct cni_error *err)
{
	json_t *j = json_pack("{s:s, s:i, s:s}", "cniVersion",
			      version ? version : CNI_VERSION_LATEST,
			      "code", err->code, "msg", err->msg);

	if (j && err->details[0])
		json_object_set_new(j, "details", json_string(err->details));
	return dump(j);
}

/* ---- the request to ambitd ----------------------------------------------- */

/* The interface at @idx of prevResult lives in the pod (has a sandbox). */
static bool in_sandbox(const json_t *prev, const json_t *ip)
{
	json_t *idx = json_object_get(ip, "interface");
	json_t *sandbox;

	if (!json_is_integer(idx))
		return true; /* unknown: the runtime gave no index, keep it */
	sandbox = json_object_get(json_array_get(json_object_get(prev, "interfaces"),
						 (size_t)json_integer_value(idx)),
				  "sandbox");
	return json_is_string(sandbox) && *json_string_value(sandbox);
}

/* The pod's addresses in prevResult, "198.18.0.2/24" -> "198.18.0.2". */
static int pod_ips(const json_t *prev, struct cni_pod *p)
{
	json_t *ip;
	size_t i, n;

	json_array_foreach(json_object_get(prev, "ips"), i, ip) {
		json_t *a = json_object_get(ip, "address");

		if (!json_is_string(a) || !in_sandbox(prev, ip))
			continue;
		if (p->req.n_ips == POD_REQ_MAX_IPS)
			return -E2BIG;
		n = strcspn(json_string_value(a), "/");
		if (!n || n >= sizeof(p->ips[0]))
			return -EINVAL;
		memcpy(p->ips[p->req.n_ips], json_string_value(a), n);
		p->ips[p->req.n_ips][n] = '\0';
		p->req.ips[p->req.n_ips] = p->ips[p->req.n_ips];
		p->req.n_ips++;
	}
	return 0;
}

static bool too_long(const char *s)
{
	return s && strlen(s) > PROTO_MAX_ARG;
}

int cni_pod_req(const struct cni_env *e, const struct cni_conf *c,
		struct cni_pod *p)
{
	memset(p, 0, sizeof(*p));
	p->req.ns = e->pod_namespace;
	p->req.name = e->pod_name;
	p->req.netns = e->netns;
	p->req.container_id = e->container_id;
	if (too_long(e->pod_namespace) || too_long(e->pod_name) ||
	    too_long(e->netns) || too_long(e->container_id))
		return -ENAMETOOLONG;
	return c && c->prev_result ? pod_ips(c->prev_result, p) : 0;
}
