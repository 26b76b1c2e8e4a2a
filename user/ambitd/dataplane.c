// SPDX-License-Identifier: Apache-2.0
#include "dataplane.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "ambit/abi.h"
#include "ambit/pin.h"
#include "connect.skel.h"
#include "log.h"
#include "nsutil.h"
#include "redir.skel.h"
#include "sockops.skel.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* Attach points, in order: restore hooks and sockops first, so a socket is
 * never redirected before what gives its VIP back (or tells the proxy
 * about it) is in place. */
struct attach_point {
	const char *pin;  /* under <bpffs>/links/ */
	const char *prog; /* program name in either object */
	enum bpf_attach_type type;
};

static const struct attach_point attach_points[] = {
	{ "getpeername4", "ambit_peer4", BPF_CGROUP_INET4_GETPEERNAME },
	{ "getpeername6", "ambit_peer6", BPF_CGROUP_INET6_GETPEERNAME },
	{ "recvmsg4", "ambit_recvmsg4", BPF_CGROUP_UDP4_RECVMSG },
	{ "recvmsg6", "ambit_recvmsg6", BPF_CGROUP_UDP6_RECVMSG },
	{ "sockops", "ambit_sockops", BPF_CGROUP_SOCK_OPS },
	{ "connect4", "ambit_conn4", BPF_CGROUP_INET4_CONNECT },
	{ "connect6", "ambit_conn6", BPF_CGROUP_INET6_CONNECT },
	{ "sendmsg4", "ambit_sendmsg4", BPF_CGROUP_UDP4_SENDMSG },
	{ "sendmsg6", "ambit_sendmsg6", BPF_CGROUP_UDP6_SENDMSG },
};
#define N_ATTACH (sizeof(attach_points) / sizeof(attach_points[0]))

static const char *const pinned_maps[] = {
	AMBIT_MAP_SERVICES, AMBIT_MAP_ENDPOINTS, AMBIT_MAP_ENROLL,
	AMBIT_MAP_ORIG_DST, AMBIT_MAP_UDP_RNAT,  AMBIT_MAP_STATS,
	AMBIT_MAP_CONFIG,   AMBIT_MAP_L7_CONNS,  AMBIT_MAP_SOCKHASH,
	AMBIT_MAP_PEERS,    AMBIT_MAP_EP_STATS,
};
#define N_MAPS (sizeof(pinned_maps) / sizeof(pinned_maps[0]))

static struct bpf_program *ap_prog(struct dataplane *dp,
				   const struct attach_point *ap)
{
	struct bpf_program *p;

	p = bpf_object__find_program_by_name(dp->skel->obj, ap->prog);
	return p ? p : bpf_object__find_program_by_name(dp->sockops->obj,
							ap->prog);
}

/* Where cgroup2 is mounted: /sys/fs/cgroup on most hosts,
 * /sys/fs/cgroup/unified on hybrid ones. Never assumed. */
static int cgroup2_mount(char *buf, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], mnt[PATH_MAX], type[64];
	int found = -ENOENT;

	if (!f)
		return -errno;
	while (found && fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(sep, " - %63s", type) != 1 ||
		    strcmp(type, "cgroup2") ||
		    sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		snprintf(buf, size, "%s", mnt);
		found = 0;
	}
	fclose(f);
	return found;
}

int cgroup_resolve(const char *in, bool allow_root, char *out, size_t size)
{
	char mnt[PATH_MAX], real[PATH_MAX];
	struct statfs st;
	int err = cgroup2_mount(mnt, sizeof(mnt));

	if (err) {
		pr_err("no cgroup2 mount found: ambit needs cgroup v2");
		return err;
	}
	if (in[0] == '/')
		snprintf(out, size, "%s", in);
	else
		snprintf(out, size, "%s/%s", mnt, in);
	if (!realpath(out, real) || statfs(real, &st) < 0 ||
	    st.f_type != CGROUP2_SUPER_MAGIC) {
		pr_err("%s is not a cgroup v2 directory (cgroup2 is mounted at %s)",
		       out, mnt);
		return -ENOTDIR;
	}
	if (!allow_root && cgroup_id_of(real) == cgroup_id_of(mnt)) {
		pr_err("refusing to attach to the root cgroup %s: that would "
		       "touch every process on the host; pass "
		       "--allow-root-cgroup to mean it", real);
		return -EPERM;
	}
	snprintf(out, size, "%s", real);
	return 0;
}

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

int bpffs_prepare(const char *dir)
{
	char parent[PATH_MAX], links[PATH_MAX + 16];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	/* A fresh host may have nothing on /sys/fs/bpf: mount it, as other
	 * BPF agents do. Any other place must already be a bpffs. */
	if (!is_bpffs(parent) && !strcmp(parent, "/sys/fs/bpf") &&
	    mount("bpf", parent, "bpf", 0, "mode=0700") < 0) {
		pr_err("mount bpffs on %s: %s (%d)", parent, strerror(errno), -errno);
		return -errno;
	}
	if (!is_bpffs(parent)) {
		pr_err("%s is not on a bpffs mount (mount -t bpf bpf %s)", dir, parent);
		return -ENOTDIR;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	snprintf(links, sizeof(links), "%s/%s", dir, AMBIT_LINK_DIR);
	if (mkdir(links, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void link_path(const struct dataplane *dp, const char *name,
		      char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s/%s", dp->bpffs, AMBIT_LINK_DIR, name);
}

/* A pinned link from an earlier daemon: check it is ours, then switch it to
 * the freshly loaded program in one step. */
static int adopt_link(struct dataplane *dp, const struct attach_point *ap,
		      int fd, struct bpf_program *prog)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int err;

	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (err)
		return err;
	if (info.type != BPF_LINK_TYPE_CGROUP ||
	    info.cgroup.attach_type != ap->type ||
	    info.cgroup.cgroup_id != dp->cgroup_id) {
		pr_err("pinned link %s is attached elsewhere (cgroup id %llu, "
		       "want %llu): run ambitd --teardown first", ap->pin,
		       (unsigned long long)info.cgroup.cgroup_id,
		       (unsigned long long)dp->cgroup_id);
		return -EEXIST;
	}
	err = bpf_link_update(fd, bpf_program__fd(prog), NULL);
	if (err)
		pr_err("update link %s: %s (%d)", ap->pin, strerror(-err), err);
	return err;
}

static int attach_one(struct dataplane *dp, const struct attach_point *ap)
{
	struct bpf_program *prog = ap_prog(dp, ap);
	struct bpf_link *link;
	char path[PATH_MAX + 64];
	int fd, err;

	link_path(dp, ap->pin, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		err = adopt_link(dp, ap, fd, prog);
		close(fd);
		dp->adopted += !err;
		return err;
	}
	link = bpf_program__attach_cgroup(prog, dp->cgroup_fd);
	if (!link) {
		err = -errno;
		pr_err("attach %s to %s: %s (%d)", ap->pin, dp->cgroup,
		       strerror(-err), err);
		return err;
	}
	err = bpf_link__pin(link, path);
	if (err)
		pr_err("pin link %s: %s (%d)", path, strerror(-err), err);
	/* The pin keeps the attachment alive; our handle can go. */
	bpf_link__destroy(link);
	return err;
}

/*
 * Every object declares every map (one maps.bpf.h) and they all pin by
 * name under one root, so the later loads reuse the first's maps. Reuse
 * needs identical definitions: each object gets the same sizes.
 */
void dp_size_maps(const struct dataplane *dp, struct bpf_object *obj)
{
	const struct dp_sizes *sz = &dp->sizes;
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		const char *n = bpf_map__name(m);

		if (!strcmp(n, AMBIT_MAP_SERVICES))
			bpf_map__set_max_entries(m, sz->services);
		else if (!strcmp(n, AMBIT_MAP_ENDPOINTS))
			bpf_map__set_max_entries(m, sz->endpoints);
		else if (!strcmp(n, AMBIT_MAP_ENROLL))
			bpf_map__set_max_entries(m, sz->enroll);
	}
}

static int load_sockops(struct dataplane *dp)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = dp->bpffs);
	int err;

	dp->sockops = sockops_bpf__open_opts(&opts);
	if (!dp->sockops)
		return -errno;
	dp_size_maps(dp, dp->sockops->obj);
	err = sockops_bpf__load(dp->sockops);
	if (err)
		pr_err("load sockops program: %s (%d)", strerror(-err), err);
	return err;
}

/*
 * The fast path's sk_msg program belongs to the sockhash, not a cgroup:
 * attaching replaces whatever an earlier daemon attached. It only acts on
 * sockets in the map, and sockets only enter it when the fast path is on.
 */
static int load_redir(struct dataplane *dp)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = dp->bpffs);
	int err;

	dp->redir = redir_bpf__open_opts(&opts);
	if (!dp->redir)
		return -errno;
	dp_size_maps(dp, dp->redir->obj);
	err = redir_bpf__load(dp->redir);
	if (!err)
		err = bpf_prog_attach(bpf_program__fd(dp->redir->progs.ambit_redir),
				      bpf_map__fd(dp->redir->maps.ambit_sockhash),
				      BPF_SK_MSG_VERDICT, 0);
	if (err)
		pr_err("load/attach the sk_msg fast path: %s (%d)", strerror(-err), err);
	return err;
}

static int load_skel(struct dataplane *dp)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = dp->bpffs);
	int err;

	dp->skel = connect_bpf__open_opts(&opts);
	if (!dp->skel)
		return -errno;
	dp_size_maps(dp, dp->skel->obj);
	err = connect_bpf__load(dp->skel);
	if (err) {
		pr_err("load BPF programs: %s (%d); pinned maps of another "
		       "size or layout in %s? (ambitd --teardown)",
		       strerror(-err), err, dp->bpffs);
		return err;
	}
	dp->services_fd = bpf_map__fd(dp->skel->maps.ambit_services);
	dp->endpoints_fd = bpf_map__fd(dp->skel->maps.ambit_endpoints);
	dp->enroll_fd = bpf_map__fd(dp->skel->maps.ambit_enroll);
	dp->stats_fd = bpf_map__fd(dp->skel->maps.ambit_stats);
	dp->ep_stats_fd = bpf_map__fd(dp->skel->maps.ambit_ep_stats);
	dp->config_fd = bpf_map__fd(dp->skel->maps.ambit_config);
	err = load_sockops(dp);
	return err ? err : load_redir(dp);
}

int dp_set_proxy(struct dataplane *dp, __u16 port, __u32 mark, bool sockmap)
{
	struct ambit_config cfg = { .proxy_port = htons(port), .proxy_mark = mark,
				    .flags = sockmap ? AMBIT_CFG_SOCKMAP : 0 };
	__u32 zero = 0;
	int err = bpf_map_update_elem(dp->config_fd, &zero, &cfg, BPF_ANY);

	if (err)
		pr_err("write config map: %s (%d)", strerror(-err), err);
	return err;
}

int dp_open(struct dataplane *dp, const char *bpffs, const char *cgroup,
	    const struct dp_sizes *sz)
{
	size_t i;
	int err;

	memset(dp, 0, sizeof(*dp));
	dp->cgroup_fd = -1;
	snprintf(dp->bpffs, sizeof(dp->bpffs), "%s", bpffs);
	snprintf(dp->cgroup, sizeof(dp->cgroup), "%s", cgroup);
	dp->sizes = *sz;
	err = bpffs_prepare(bpffs);
	if (err)
		return err;
	dp->cgroup_fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dp->cgroup_id = cgroup_id_of(cgroup);
	if (dp->cgroup_fd < 0 || !dp->cgroup_id) {
		err = -errno;
		pr_err("open cgroup %s: %s (%d)", cgroup, strerror(-err), err);
		return err;
	}
	err = load_skel(dp);
	for (i = 0; !err && i < N_ATTACH; i++)
		err = attach_one(dp, &attach_points[i]);
	return err;
}

void dp_close(struct dataplane *dp)
{
	redir_bpf__destroy(dp->redir);
	dp->redir = NULL;
	sockops_bpf__destroy(dp->sockops);
	dp->sockops = NULL;
	connect_bpf__destroy(dp->skel);
	dp->skel = NULL;
	if (dp->cgroup_fd >= 0)
		close(dp->cgroup_fd);
	dp->cgroup_fd = -1;
}

/* Unpinning the last reference to a link detaches it. */
int dp_teardown(struct dataplane *dp)
{
	char path[PATH_MAX + 64];
	int err = 0;
	size_t i;

	for (i = N_ATTACH; i-- > 0;) {
		link_path(dp, attach_points[i].pin, path, sizeof(path));
		if (unlink(path) < 0 && errno != ENOENT)
			err = -errno;
	}
	for (i = 0; i < N_MAPS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dp->bpffs, pinned_maps[i]);
		if (unlink(path) < 0 && errno != ENOENT)
			err = -errno;
	}
	link_path(dp, "", path, sizeof(path));
	rmdir(path);
	rmdir(dp->bpffs);
	return err;
}
