/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ambit-cni: the pure part of the chained CNI plugin (no I/O): the
 * runtime's environment and CNI_ARGS, the network configuration and its
 * prevResult, version negotiation, and the JSON the plugin prints. main.c
 * does the reading, the talking to ambitd and the printing.
 *
 * Spec: CNI 1.0.0 (and the 0.3.x/0.4.0 that older runtimes and Debian's
 * containernetworking-plugins 1.1.1 speak). A chained plugin needs
 * prevResult, which appeared in 0.3.0, so that is the oldest we accept.
 */
#ifndef AMBIT_CNI_H
#define AMBIT_CNI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ctl.h"
#include "proto.h"

#define CNI_VERSION_LATEST "1.0.0"
#define CNI_MAX_CONFIG (4u << 20) /* stdin larger than this is refused */
#define CNI_DEFAULT_TIMEOUT_MS 10000

enum cni_cmd { CNI_CMD_NONE, CNI_CMD_ADD, CNI_CMD_DEL, CNI_CMD_CHECK,
	       CNI_CMD_VERSION };

/* The spec's well-known error codes, and ours (100 and up). */
enum cni_code {
	CNI_ERR_INCOMPATIBLE = 1, /* cniVersion we do not speak */
	CNI_ERR_ENV = 4,          /* a CNI_* variable missing or invalid */
	CNI_ERR_IO = 5,           /* reading stdin failed */
	CNI_ERR_DECODE = 6,       /* stdin is not JSON (or not an object) */
	CNI_ERR_CONFIG = 7,       /* a field has the wrong type or value */
	CNI_ERR_TRY_LATER = 11,   /* ambitd unreachable: transient */
	CNI_ERR_REFUSED = 100,    /* ambitd answered with an error */
	CNI_ERR_NOT_ENROLLED = 101, /* CHECK: the pod is not as ambitd says */
};

struct cni_error {
	int code;        /* 0: no error */
	char msg[160];   /* short, names the variable or field */
	char details[1024];
};

/* The runtime's parameters. Strings point into the environment. */
struct cni_env {
	enum cni_cmd cmd;
	const char *command;      /* CNI_COMMAND as given */
	const char *container_id; /* CNI_CONTAINERID */
	const char *netns;        /* CNI_NETNS (optional for DEL) */
	const char *ifname;       /* CNI_IFNAME */
	const char *path;         /* CNI_PATH (unused: we delegate nothing) */
	/* From CNI_ARGS (what kubelet passes); malloc'd, NULL if absent. */
	char *pod_namespace;      /* K8S_POD_NAMESPACE */
	char *pod_name;           /* K8S_POD_NAME */
	char *pod_uid;            /* K8S_POD_UID */
	char *infra_id;           /* K8S_POD_INFRA_CONTAINER_ID */
};

/* The network configuration on stdin, with our keys resolved. */
struct cni_conf {
	json_t *root;          /* owned */
	const char *version;   /* cniVersion (in root) */
	const char *name;      /* network name (in root) */
	json_t *prev_result;   /* borrowed from root; NULL if absent */
	const char *socket;    /* "socket", else $AMBIT_SOCKET, else default */
	bool fail_open;        /* "failOpen" (default false) */
	int timeout_ms;        /* "timeoutSeconds" (default 10 s) */
};

/** cni_cmd_parse() - CNI_COMMAND text to enum; CNI_CMD_NONE if unknown. */
enum cni_cmd cni_cmd_parse(const char *s);

/** cni_cmd_name() - "ADD", "DEL", ... for logs. */
const char *cni_cmd_name(enum cni_cmd cmd);

/**
 * cni_env_read() - read CNI_* from the environment and check that what
 * @e->cmd needs is there (the spec's required variables per command).
 * Returns 0, or -1 with @err set (code 4, names the variable). Free with
 * cni_env_free() either way.
 */
int cni_env_read(struct cni_env *e, struct cni_error *err);

/**
 * cni_args_parse() - split CNI_ARGS ("K=V;K=V") into the K8S_POD_* fields
 * of @e; other keys are ignored. Returns 0, or -1 with @err (code 4) on a
 * pair without '=' or a key given twice.
 */
int cni_args_parse(const char *args, struct cni_env *e, struct cni_error *err);

/** cni_env_free() - release what cni_env_read() allocated. */
void cni_env_free(struct cni_env *e);

/**
 * cni_version_supported() - true for the spec versions we speak with a
 * prevResult (0.3.0, 0.3.1, 0.4.0, 1.0.0).
 */
bool cni_version_supported(const char *v);

/**
 * cni_conf_parse() - parse @len bytes of network configuration for @cmd.
 * Checks cniVersion (code 1 if we do not speak it, or if it predates
 * CHECK when @cmd is CHECK), name and type, our own keys, and that ADD and
 * CHECK carry a prevResult object (a chained plugin has nothing to pass
 * on without it). @env_socket is $AMBIT_SOCKET (may be NULL).
 * Returns 0, or -1 with @err set; @c->version is set as soon as it is
 * known, for the error's cniVersion. Free with cni_conf_free() either way.
 */
int cni_conf_parse(const char *buf, size_t len, enum cni_cmd cmd,
		   const char *env_socket, struct cni_conf *c,
		   struct cni_error *err);

/** cni_conf_free() - release the parsed configuration. */
void cni_conf_free(struct cni_conf *c);

/**
 * cni_result_json() - what ADD prints: prevResult unchanged but for its
 * cniVersion, which is the configuration's. malloc'd, NULL on ENOMEM.
 */
char *cni_result_json(const struct cni_conf *c);

/**
 * cni_version_json() - what VERSION prints for stdin @buf (@len bytes,
 * may be empty: then the latest version is the one in use). Returns
 * malloc'd JSON, or NULL with @err set (code 6) when @buf is not a JSON
 * object with a string cniVersion.
 */
char *cni_version_json(const char *buf, size_t len, struct cni_error *err);

/**
 * cni_error_json() - the spec's error object for @err, with @version
 * (the configuration's cniVersion; NULL: the latest). malloc'd or NULL.
 */
char *cni_error_json(const char *version, const struct cni_error *err);

/** cni_error_set() - fill @err (printf format for msg; details plain). */
void cni_error_set(struct cni_error *err, int code, const char *details,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The request for ambitd (ctl.h), with the addresses it names kept here. */
struct cni_pod {
	struct pod_req req;                /* strings borrowed from env/conf */
	char ips[POD_REQ_MAX_IPS][64];     /* prevResult's, without prefix */
};

/**
 * cni_pod_req() - what ambitd is told about the pod: its namespace and
 * name (CNI_ARGS), CNI_NETNS, CNI_CONTAINERID and, when @c has a
 * prevResult, the pod's addresses in it (those on interfaces inside the
 * sandbox, prefix length cut off; pass @c for ADD, NULL otherwise: only
 * attach names addresses). Returns 0, -E2BIG (more
 * addresses than ambitd takes), -EINVAL (an address that cannot be one)
 * or -ENAMETOOLONG (a value longer than the protocol takes).
 */
int cni_pod_req(const struct cni_env *e, const struct cni_conf *c,
		struct cni_pod *p);

#endif
