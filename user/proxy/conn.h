/* SPDX-License-Identifier: Apache-2.0 */
/* A client connection and its upstream, driven by one worker's loop. */
#ifndef AMBIT_PX_CONN_H
#define AMBIT_PX_CONN_H

#include <pthread.h>

#include "proxy.h"
#include "pxmetrics.h"

struct px_buf {
	char *p;
	size_t r; /* first unread byte */
	size_t w; /* end of data */
};

/* kind 0 marks a closed object whose memory waits for the end of the
 * current epoll batch: a later event of the same batch may still name it. */
enum px_fd_kind { PX_DEAD = 0, PX_LISTENER, PX_CLIENT, PX_UPSTREAM, PX_MIRROR };

/* What epoll hands back: which fd of what. */
struct px_handle {
	uint8_t kind; /* enum px_fd_kind */
	void *ptr;
};

struct px_worker;

/*
 * A listener: on the proxy's own loopback, or on the loopback of an
 * enrolled pod's network namespace (the way ambient node proxies serve
 * pods). Connections accepted on it connect upstream from that namespace.
 */
struct px_listener {
	struct px_handle h;
	int fd;
	int netns_fd;   /* -1: the proxy's own namespace */
	bool closed;    /* the pod left: kept allocated, events may be queued */
	struct px_worker *w;
	uint32_t events;
	struct px_listener *next;
};

/* A mirrored request: sent, its answer awaited and thrown away. */
struct px_mirror {
	struct px_handle h;
	int fd;
	struct px_worker *w;
	char *buf;
	size_t len;
	size_t off;
	uint32_t events;
	uint64_t deadline;
	struct px_mirror *prev, *next;
};

struct px_upstream {
	struct px_handle h;
	int fd;
	int netns_fd;             /* the namespace it was made in, -1: ours */
	struct ambit_ep_val ep;
	bool connected;
	bool reused;              /* came from the pool */
	uint32_t events;          /* epoll interest registered */
	uint64_t idle_since;
	struct px_conn *owner;    /* NULL while pooled */
	struct px_upstream *next; /* pool chain */
	struct px_worker *w;
};

enum px_state {
	ST_HEAD = 1,    /* reading a request head */
	ST_CONNECT,     /* waiting for the upstream connection */
	ST_REQ_BODY,    /* streaming the request body upstream */
	ST_RESP_HEAD,   /* reading the response head */
	ST_RESP_BODY,   /* streaming the response body to the client */
	ST_TUNNEL,      /* after 101: bytes both ways */
	ST_CLOSING,     /* flush what is left, then close */
	ST_LINGER,      /* sent FIN; discard input until EOF, then close */
};

struct px_body {
	uint8_t kind;         /* enum http_body */
	uint64_t remaining;   /* HTTP_BODY_LENGTH */
	struct http_chunked ch;
};

struct px_conn {
	struct px_handle h;
	int fd;
	int netns_fd;             /* where the client is: upstreams go from there */
	struct px_worker *w;
	uint8_t state;
	struct px_buf in;   /* from the client */
	struct px_buf out;  /* to the client */
	struct px_buf uin;  /* from upstream */
	struct px_buf uout; /* to upstream */
	size_t head_scanned;  /* bytes of a partial head known to hold no LF */
	struct px_upstream *up;
	struct ambit_l7_val orig; /* what the client dialed, who it is */
	struct ambit_svc_key svc; /* orig as a service key */
	/* the request in flight */
	struct px_snapshot *snap;
	struct arena ar;          /* per request */
	struct str_view method;   /* copy in ar: the head is consumed */
	bool keep_alive;          /* client side, after this request */
	bool upgrade;
	bool resp_started;
	bool up_keep;             /* upstream allows reuse after this one */
	bool req_done;            /* the whole request went upstream */
	bool client_eof;
	bool up_eof;
	bool cl_ready;            /* epoll said readable, not drained since */
	bool up_ready;
	uint64_t last_active;     /* last event: draining closes the quiet */
	uint64_t moved;           /* I/O calls that moved bytes: progress */
	bool fast_path;           /* our end is in the sockhash */
	bool fast_path_tried;
	struct ambit_l7_key fp_key;
	struct px_body req_body;
	struct px_body resp_body;
	struct l7_actions *act;   /* in ar; NULL: the request has none */
	const struct l7_rule *rule; /* the matched rule, NULL: none */
	struct px_req_metrics m;  /* what the request is counted under */
	uint64_t deadline;        /* of the current phase, 0: none */
	uint64_t request_deadline; /* route timeouts.request, 0: none */
	uint32_t events;          /* epoll interest registered for fd */
	struct px_conn *prev, *next; /* worker's list */
};

struct px_worker {
	int id;
	int epfd;
	struct px_listener *listeners; /* guarded by lock: main adds pods */
	pthread_mutex_t lock;
	struct px_conn *conns;
	size_t n_conns;
	struct px_upstream *pool; /* idle upstream connections */
	size_t n_pool;
	struct px_mirror *mirrors; /* in flight */
	size_t n_mirrors;
	void **spare;              /* I/O buffers for reuse (bufpool.c) */
	size_t n_spare;
	size_t cap_spare;
	size_t low_spare;          /* fewest spares during this period */
	uint64_t spare_since;
	void **graves;             /* closed objects, freed after the batch */
	size_t n_graves;
	size_t cap_graves;
	bool draining;
	uint32_t rnd;
	uint64_t pool_version; /* snapshot the pool was last pruned for */
};

/* bufpool.c: px_cfg.buf_size bytes each; NULL when out of memory */
void *px_buf_alloc(struct px_worker *w);
void px_buf_free(struct px_worker *w, void *p);
void px_buf_shrink(struct px_worker *w, uint64_t now);
void px_buf_release_all(struct px_worker *w);

/* conn.c */
void px_conn_accept(struct px_worker *w, struct px_listener *l);
void px_conn_event(struct px_conn *c, bool from_upstream, uint32_t ev);
void px_conn_timeouts(struct px_worker *w, uint64_t now);
void px_conn_close(struct px_conn *c);

/* render.c: heads we send (@a NULL: no filter actions) */
void px_render_request(const struct http_request *rq,
		       const struct l7_actions *a, bool upgrade,
		       struct sbuf *out);
void px_render_response(const struct http_response *rs,
			const struct l7_actions *a, bool close, bool upgrade,
			struct sbuf *out);
void px_render_local(int status, const char *location,
		     const struct l7_actions *a, bool close, const char *body,
		     struct sbuf *out);

/* fastpath.c */
int px_own_key(int fd, struct ambit_l7_key *k);
void px_fast_join(struct px_conn *c);
void px_fast_leave(struct px_conn *c);

/* mirror.c */
void px_mirror_send(struct px_worker *w, const struct ambit_ep_val *ep,
		    int netns_fd, const char *data, size_t len);
void px_mirror_event(struct px_mirror *m, uint32_t ev);
void px_mirror_timeouts(struct px_worker *w, uint64_t now);

/* upstream.c */
int px_upstream_socket(const struct ambit_ep_val *ep, int netns_fd);
struct px_upstream *px_upstream_get(struct px_worker *w,
				    const struct ambit_ep_val *ep, int netns_fd,
				    int *err);
void px_upstream_release(struct px_upstream *u, bool reusable);
void px_upstream_pool_event(struct px_upstream *u);
void px_upstream_reap(struct px_worker *w, uint64_t now);
void px_upstream_prune(struct px_worker *w);

/* worker.c */
#define PX_REGISTERED (1u << 27) /* in *cur: fd is in the epoll set */
int px_epoll_set(struct px_worker *w, int fd, struct px_handle *h,
		 uint32_t *cur, uint32_t want);
uint32_t px_rand(struct px_worker *w);
void px_defer_free(struct px_worker *w, struct px_handle *h);
int px_listen_on(int family, uint16_t port);
int px_worker_add_listener(struct px_worker *w, int fd, int netns_fd,
			   struct px_listener **out);
void px_listener_close(struct px_listener *l);
int px_adopt_inherited(struct px_worker *w, int n, __u64 netns, int netns_fd,
		       struct px_listener ***list, size_t *n_list);

/* takeover.c: listening sockets from the proxy we replace, and for the
 * proxy that replaces us */
void px_inherit_listen_fds(void);
int px_takeover_begin(const char *path);
int px_inherited_take(int family, __u64 netns);
void px_takeover_finish(int sock);
int px_handoff_serve(int lfd, struct px_worker *w, int n);

/* pods.c: listeners inside enrolled pods' namespaces */
void px_pods_sync(struct px_worker *w, int n, const struct px_snapshot *s);

#endif
