// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for ambit-cni's parsing: arbitrary bytes as the
 * network configuration for each command, then everything the plugin
 * builds from an accepted one (the pass-through result, the request for
 * ambitd, the error object); the same bytes as VERSION input and as
 * CNI_ARGS. ASan/UBSan/LeakSanitizer watch every path.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_command(const char *buf, size_t size, enum cni_cmd cmd)
{
	struct cni_env e = { .cmd = cmd, .container_id = "c", .netns = "/n",
			     .ifname = "eth0", .pod_namespace = "ns",
			     .pod_name = "p" };
	char *argv[POD_REQ_MAX_ARGS + 1];
	struct cni_error err = {};
	struct cni_conf c;
	struct cni_pod p;

	if (!cni_conf_parse(buf, size, cmd, NULL, &c, &err)) {
		if (c.prev_result)
			free(cni_result_json(&c));
		if (!cni_pod_req(&e, &c, &p))
			pod_req_argv(&p.req, POD_ATTACH, argv);
	} else {
		free(cni_error_json(c.version, &err));
	}
	cni_conf_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct cni_error err = {};
	struct cni_env e = {};
	char *args;

	one_command(buf, size, CNI_CMD_ADD);
	one_command(buf, size, CNI_CMD_DEL);
	one_command(buf, size, CNI_CMD_CHECK);
	free(cni_version_json(buf, size, &err));
	args = strndup(buf, size);
	if (args) {
		cni_args_parse(args, &e, &err);
		cni_env_free(&e);
		free(args);
	}
	return 0;
}
