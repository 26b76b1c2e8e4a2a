// SPDX-License-Identifier: Apache-2.0
/*
 * The per-connection state machine. Everything is non-blocking and driven
 * by one worker's epoll loop: px_conn_event() does what I/O it can, then
 * steps the state machine until neither makes progress, then registers
 * exactly the interest the new state needs. One request at a time per
 * connection: pipelined requests wait in the input buffer, so responses
 * leave in request order. Buffers are bounded; a full buffer stops the
 * reads that would fill it (backpressure both ways).
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "ambit/select.h"
#include "log.h"

/* Draining: a keep-alive connection this quiet is closed, not told. */
#define DRAIN_IDLE_MS 1000

/* ---- buffers ------------------------------------------------------------ */

static size_t buf_len(const struct px_buf *b)
{
	return b->w - b->r;
}

/*
 * Room at the end, compacting first; takes a buffer from the worker's pool
 * on first use. Every buffer has px_cfg.buf_size bytes: a whole request
 * head fits, and bodies stream through.
 */
static size_t buf_room(const struct px_conn *c, struct px_buf *b)
{
	size_t cap = px_cfg.buf_size;

	if (!b->p && !(b->p = px_buf_alloc(c->w)))
		return 0;
	if (b->r && b->w == cap) {
		memmove(b->p, b->p + b->r, b->w - b->r);
		b->w -= b->r;
		b->r = 0;
	}
	return cap - b->w;
}

/* Would buf_room() find room? Without allocating. */
static bool buf_has_room(const struct px_buf *b)
{
	return !b->p || b->r || b->w < px_cfg.buf_size;
}

static void buf_consume(struct px_buf *b, size_t n)
{
	b->r += n;
	if (b->r == b->w)
		b->r = b->w = 0;
}

/* An empty buffer goes back to the pool. */
static void buf_trim(struct px_conn *c, struct px_buf *b)
{
	if (b->p && !buf_len(b)) {
		px_buf_free(c->w, b->p);
		memset(b, 0, sizeof(*b));
	}
}

/* Between requests a connection keeps no buffer it does not need: 10k
 * keep-alive clients cost buffers only for the busy ones. */
static void trim_between_requests(struct px_conn *c)
{
	if (c->state != ST_HEAD)
		return;
	buf_trim(c, &c->in);
	buf_trim(c, &c->out);
	buf_trim(c, &c->uin);
	buf_trim(c, &c->uout);
}

static bool buf_put(const struct px_conn *c, struct px_buf *b, const char *p,
		    size_t n)
{
	if (buf_room(c, b) < n)
		return false;
	memcpy(b->p + b->w, p, n);
	b->w += n;
	return true;
}

/* Read what fits. >0 bytes, 0 EOF, -EAGAIN, -errno; -ENOSPC when full. */
static ssize_t buf_fill(const struct px_conn *c, int fd, struct px_buf *b)
{
	size_t room = buf_room(c, b);
	ssize_t n;

	if (!room)
		return -ENOSPC;
	n = read(fd, b->p + b->w, room);
	if (n < 0)
		return -errno;
	b->w += (size_t)n;
	return n;
}

/* Write what is pending. 0: all gone, -EAGAIN: some left, -errno. */
static int buf_flush(int fd, struct px_buf *b)
{
	while (buf_len(b)) {
		ssize_t n = send(fd, b->p + b->r, buf_len(b), MSG_NOSIGNAL);

		if (n < 0)
			return -errno;
		buf_consume(b, (size_t)n);
	}
	return 0;
}

/* ---- lifecycle ------------------------------------------------------- */

static void end_request(struct px_conn *c)
{
	if (c->m.start_ns)
		px_metrics_done(c->w->id, &c->m, c->snap, &c->svc, c->rule);
	px_snapshot_put(c->snap);
	c->snap = NULL;
	arena_free(&c->ar);
	c->act = NULL;
	c->rule = NULL;
	c->resp_started = false;
	c->request_deadline = 0;
}

void px_conn_close(struct px_conn *c)
{
	struct px_worker *w = c->w;

	if (c->up) {
		px_upstream_release(c->up, false);
		c->up = NULL;
	}
	end_request(c);
	px_metrics_conn(w->id, PX_CONN_CLOSED);
	close(c->fd);
	px_buf_free(w, c->in.p);
	px_buf_free(w, c->out.p);
	px_buf_free(w, c->uin.p);
	px_buf_free(w, c->uout.p);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->n_conns--;
	px_defer_free(w, &c->h);
}

static void finish_request(struct px_conn *c, bool upstream_reusable)
{
	if (c->up) {
		px_upstream_release(c->up, upstream_reusable);
		c->up = NULL;
	}
	/* Bytes of that upstream connection are no part of the next
	 * exchange: a backend's unrequested answer would pass for the
	 * answer to this client's next request. */
	buf_consume(&c->uin, buf_len(&c->uin));
	buf_consume(&c->uout, buf_len(&c->uout));
	/*
	 * Join the fast path only once a first exchange is done and the
	 * connection stays open: bytes a client sends while our end is being
	 * added to the sockhash can be overtaken by its FIN (a client that
	 * half-closes right after its request lost its answer that way).
	 */
	if (c->keep_alive && !c->fast_path_tried) {
		c->fast_path_tried = true;
		px_fast_join(c);
	}
	end_request(c);
	c->state = c->keep_alive ? ST_HEAD : ST_CLOSING;
	c->deadline = px_now_ms() + px_cfg.idle_timeout_ms;
}

/* Our own answer. A request body we did not read forces a close. */
static void local_reply(struct px_conn *c, int status, const char *location,
			const char *body, bool close)
{
	struct sbuf sb = {};

	if (!c->m.start_ns) /* refused before it was a request: 400, 408, 431 */
		px_metrics_begin(&c->m);
	c->m.status = status;
	/* Draining: this answer is the connection's last. */
	c->keep_alive = c->keep_alive && !close && !c->w->draining;
	if (!c->keep_alive)
		px_fast_leave(c);
	px_render_local(status, location, c->act,
			!c->keep_alive, body, &sb);
	if (sb.oom || !buf_put(c, &c->out, sb_str(&sb), sb.len))
		c->keep_alive = false;
	sb_free(&sb);
	finish_request(c, false);
}


/* ---- routing a request -------------------------------------------------- */

static void view_of(const struct http_request *rq, struct l7_request_view *v)
{
	v->method = rq->method;
	v->path = rq->path;
	v->query = rq->query;
	v->host = rq->host;
	v->headers = rq->headers;
	v->n_headers = rq->n_headers;
}

/* No L7 table for the VIP (the snapshot lags the data plane by a moment,
 * or the Service became L4): serve it the L4 way, weighted by version. */
static const struct ambit_ep_val *l4_fallback(struct px_conn *c, int *status)
{
	const struct img_service *s = image_find(&c->snap->img, &c->svc);
	struct ambit_svc_val val;
	const struct img_version *v;
	int vi;

	*status = 503;
	if (!s || s->l7)
		return NULL;
	svc_val_from_image(s, &val);
	vi = ambit_pick_version(&val, px_rand(c->w));
	if (vi < 0)
		return NULL;
	v = &s->versions[vi];
	c->m.be_ns = v->ns;
	c->m.be_name = v->name;
	c->m.be_port = v->port;
	if (v->unresolved || !v->n_eps) {
		*status = v->unresolved ? 500 : 503;
		return NULL;
	}
	return &v->eps[ambit_pick_endpoint(px_rand(c->w), v->n_eps)];
}

static bool has_extension_ref(const struct l7_rule *r)
{
	size_t i;

	for (i = 0; i < r->rule->n_filters; i++) {
		if (r->rule->filters[i].type == FILTER_EXTENSION)
			return true;
	}
	return false;
}

/* Match, pick a backend, apply filters. NULL with *status to answer. */
static const struct ambit_ep_val *route(struct px_conn *c,
					const struct http_request *rq,
					int *status)
{
	const struct l7_port *port = l7_find_port(&c->snap->l7, &c->svc);
	struct l7_conn_info ci = { "http", ntohs(c->svc.port) };
	struct l7_request_view v;
	const struct l7_entry *e;
	const struct l7_backend *b;

	if (!port)
		return l4_fallback(c, status);
	view_of(rq, &v);
	e = l7_match(port, px_client_ns(c->snap, c->orig.enroll_kind,
					 c->orig.enroll_id), &v);
	*status = 404;
	if (!e)
		return NULL;
	c->rule = e->rule;
	*status = 500;
	if (has_extension_ref(e->rule))
		return NULL; /* the spec: never skip a filter we cannot run */
	b = l7_pick_backend(e->rule, px_rand(c->w));
	if (b) {
		c->m.be_ns = b->ns;
		c->m.be_name = b->name;
		c->m.be_port = b->port;
	}
	*status = 500;
	c->act = arena_calloc(&c->ar, 1, sizeof(*c->act));
	if (!c->act || l7_actions(e, b, &v, &ci, px_rand(c->w), &c->ar, c->act))
		return NULL;
	if (c->act->redirect_status) {
		*status = c->act->redirect_status;
		return NULL;
	}
	if (!b || b->unresolved)
		return NULL;
	*status = 503;
	if (!b->n_eps)
		return NULL;
	return &b->eps[ambit_pick_endpoint(px_rand(c->w), b->n_eps)];
}

/* timeouts.request and .backendRequest: one attempt, so the shorter. */
static void set_timeouts(struct px_conn *c)
{
	const struct route_rule *r = c->rule ? c->rule->rule : NULL;
	int64_t t;

	c->request_deadline = 0;
	if (!r)
		return;
	t = r->timeout_request_ms;
	if (r->timeout_backend_ms > 0 && (t <= 0 || r->timeout_backend_ms < t))
		t = r->timeout_backend_ms;
	if (t > 0)
		c->request_deadline = px_now_ms() + (uint64_t)t;
}

static bool start_upstream(struct px_conn *c, const struct ambit_ep_val *ep)
{
	int err = 0;

	c->up = px_upstream_get(c->w, ep, c->netns_fd, &err);
	if (!c->up)
		return false;
	c->up->owner = c;
	c->up_ready = false;
	c->up_eof = false;
	c->state = c->up->connected ? ST_REQ_BODY : ST_CONNECT;
	c->deadline = c->up->connected ? 0 : px_now_ms() + px_cfg.connect_timeout_ms;
	return true;
}

static void begin_body(struct px_body *b, uint8_t kind, uint64_t len)
{
	memset(b, 0, sizeof(*b));
	b->kind = kind;
	b->remaining = len;
}

/*
 * Copies for RequestMirror targets: the same head, plus the body when it
 * is already all here (a streamed body is not buffered for a mirror:
 * such requests are not mirrored).
 */
static void send_mirrors(struct px_conn *c, const struct http_request *rq,
			 size_t head_len, const struct sbuf *head)
{
	size_t i, body = 0;
	struct sbuf sb = {};

	if (rq->body == HTTP_BODY_LENGTH)
		body = (size_t)rq->content_length;
	if (rq->body == HTTP_BODY_CHUNKED ||
	    buf_len(&c->in) - head_len < body)
		return;
	sb_add(&sb, sb_str(head), head->len);
	sb_add(&sb, c->in.p + c->in.r + head_len, body);
	for (i = 0; i < c->act->n_mirrors && !sb.oom; i++) {
		const struct l7_backend *m = c->act->mirrors[i];

		if (!m->unresolved && m->n_eps)
			px_mirror_send(c->w, &m->eps[ambit_pick_endpoint(
				px_rand(c->w), m->n_eps)], c->netns_fd,
				sb_str(&sb), sb.len);
	}
	sb_free(&sb);
}

/* A complete head is in c->in: route it and start the exchange. */
static void handle_request(struct px_conn *c, const struct http_request *rq,
			   size_t head_len)
{
	const struct ambit_ep_val *ep;
	struct sbuf sb = {};
	int status = 503;

	px_metrics_begin(&c->m);
	c->snap = px_snapshot_current();
	c->keep_alive = rq->keep_alive;
	c->upgrade = rq->upgrade;
	c->method.len = rq->method.len;
	c->method.p = arena_strndup(&c->ar, rq->method.p, rq->method.len);
	ep = c->snap && c->method.p ? route(c, rq, &status) : NULL;
	if (!c->snap)
		status = 503;
	if (!ep) {
		buf_consume(&c->in, head_len);
		local_reply(c, status, c->act ? c->act->location : NULL,
			    status == 404 ? "no route matched\n" : NULL,
			    rq->body != HTTP_BODY_NONE);
		return;
	}
	set_timeouts(c);
	px_render_request(rq, c->act, c->upgrade, &sb);
	if (c->act && c->act->n_mirrors)
		send_mirrors(c, rq, head_len, &sb);
	buf_consume(&c->in, head_len); /* after rendering: rq points there */
	if (sb.oom || !buf_put(c, &c->uout, sb_str(&sb), sb.len) ||
	    !start_upstream(c, ep)) {
		sb_free(&sb);
		buf_consume(&c->uout, buf_len(&c->uout));
		local_reply(c, 503, NULL, "backend unreachable\n", true);
		return;
	}
	sb_free(&sb);
	begin_body(&c->req_body, rq->body, rq->content_length);
	c->req_done = false;
}

/*
 * Parse a partial head again only when a line has ended since the last
 * try (or the client has finished sending, or the head reached its limit):
 * a client trickling its head byte by byte would otherwise cost one parse
 * of the whole buffer per byte, quadratic in the head limit. Waiting for
 * the end of a line can delay an answer, never change it (the parser is
 * prefix-stable, see http1.c), and the field limit bounds the lines.
 */
static bool worth_parsing(struct px_conn *c, size_t len)
{
	size_t from = c->head_scanned <= len ? c->head_scanned : 0;

	c->head_scanned = len;
	return c->client_eof || len >= px_cfg.head_limits.max_head ||
	       memchr(c->in.p + c->in.r + from, '\n', len - from);
}

static bool step_head(struct px_conn *c)
{
	struct http_request rq;
	size_t len = buf_len(&c->in);
	int n;

	if (!len)
		return false;
	n = worth_parsing(c, len) ? http1_parse_request(c->in.p + c->in.r, len,
						&px_cfg.head_limits, &rq)
				  : HTTP_PARTIAL;
	if (n == HTTP_PARTIAL) {
		if (c->client_eof) { /* and no more will come */
			buf_consume(&c->in, len);
			local_reply(c, 400, NULL, NULL, true);
			return true;
		}
		if (c->deadline > px_now_ms() + px_cfg.header_timeout_ms)
			c->deadline = px_now_ms() + px_cfg.header_timeout_ms;
		return false;
	}
	c->head_scanned = 0; /* the head is consumed, answered or not */
	if (n < 0) {
		buf_consume(&c->in, len);
		local_reply(c, -n, NULL, NULL, true);
		return true;
	}
	handle_request(c, &rq, (size_t)n);
	return true;
}

/* ---- bodies ------------------------------------------------------------- */

/*
 * Move framed body bytes from @src to @dst, forwarding the framing as is.
 * Return: 1 when the body is complete, 0 when more is needed (or @dst is
 * full), -1 on malformed chunked framing.
 */
static int move_body(struct px_conn *c, struct px_body *b, struct px_buf *src,
		     struct px_buf *dst)
{
	size_t n = buf_len(src), room = buf_room(c, dst);
	bool done = false;
	long k;

	if (b->kind == HTTP_BODY_NONE)
		return 1;
	if (n > room)
		n = room;
	if (b->kind == HTTP_BODY_LENGTH && n > b->remaining)
		n = (size_t)b->remaining;
	if (b->kind == HTTP_BODY_CHUNKED) {
		k = http1_chunked_scan(&b->ch, src->p + src->r, n, &done);
		if (k < 0)
			return -1;
		n = (size_t)k;
	}
	buf_put(c, dst, src->p + src->r, n);
	buf_consume(src, n);
	if (b->kind == HTTP_BODY_LENGTH)
		b->remaining -= n;
	return done || (b->kind == HTTP_BODY_LENGTH && !b->remaining);
}

static bool step_req_body(struct px_conn *c)
{
	size_t before = buf_len(&c->in);
	int r = move_body(c, &c->req_body, &c->in, &c->uout);

	if (r < 0) {
		local_reply(c, 400, NULL, NULL, true);
		return true;
	}
	if (r == 1) {
		c->req_done = true;
		c->state = ST_RESP_HEAD;
		c->deadline = c->request_deadline ? c->request_deadline :
			px_now_ms() + px_cfg.upstream_timeout_ms;
		return true;
	}
	return buf_len(&c->in) != before;
}

/* ---- responses ---------------------------------------------------------- */

/* 1xx (not 101): pass it through verbatim and wait for the final one. */
static bool relay_informational(struct px_conn *c, int n)
{
	if (!buf_put(c, &c->out, c->uin.p + c->uin.r, (size_t)n))
		return false;
	buf_consume(&c->uin, (size_t)n);
	return true;
}

static void start_response(struct px_conn *c, const struct http_response *rs,
			   size_t head_len)
{
	bool upgrade = rs->status == 101 && c->upgrade;
	struct sbuf sb = {};

	if (rs->body == HTTP_BODY_UNTIL_CLOSE || c->w->draining)
		c->keep_alive = false; /* draining: tell the client, then go */
	if (!c->keep_alive)
		px_fast_leave(c);
	px_render_response(rs, c->act, !c->keep_alive, upgrade, &sb);
	buf_consume(&c->uin, head_len);
	if (sb.oom || !buf_put(c, &c->out, sb_str(&sb), sb.len)) {
		sb_free(&sb);
		local_reply(c, 502, NULL, NULL, true);
		return;
	}
	sb_free(&sb);
	c->resp_started = true;
	c->m.status = rs->status;
	c->up_keep = rs->keep_alive;
	begin_body(&c->resp_body, rs->body, rs->content_length);
	c->state = upgrade ? ST_TUNNEL : ST_RESP_BODY;
	c->deadline = 0;
}

static bool step_resp_head(struct px_conn *c)
{
	struct http_response rs;
	size_t len = buf_len(&c->uin);
	int n;

	if (!len)
		return false;
	n = http1_parse_response(c->uin.p + c->uin.r, len, c->method, &rs);
	if (n == HTTP_PARTIAL) {
		if (len < HTTP_MAX_HEAD)
			return false;
		n = HTTP_ERR_BAD;
	}
	if (n < 0 || (rs.status == 101 && !c->upgrade)) {
		local_reply(c, 502, NULL, NULL, true);
		return true;
	}
	if (rs.status < 200 && rs.status != 101)
		return relay_informational(c, n);
	if (c->state == ST_REQ_BODY) /* answered before the body was sent */
		c->keep_alive = false;
	start_response(c, &rs, (size_t)n);
	return true;
}

static bool step_resp_body(struct px_conn *c)
{
	size_t before = buf_len(&c->uin);
	int r = move_body(c, &c->resp_body, &c->uin, &c->out);

	if (r < 0) { /* the backend broke its own framing: cut the client */
		c->keep_alive = false;
		finish_request(c, false);
		return true;
	}
	if (r == 1 && c->resp_body.kind != HTTP_BODY_UNTIL_CLOSE) {
		/* Reuse only a connection that is exactly between messages. */
		finish_request(c, c->up_keep && c->req_done && !buf_len(&c->uin));
		return true;
	}
	return buf_len(&c->uin) != before;
}

static bool step_tunnel(struct px_conn *c)
{
	size_t a = buf_len(&c->in), b = buf_len(&c->uin);
	size_t n;

	n = buf_len(&c->in);
	if (n > buf_room(c, &c->uout))
		n = buf_room(c, &c->uout);
	buf_put(c, &c->uout, c->in.p + c->in.r, n);
	buf_consume(&c->in, n);
	n = buf_len(&c->uin);
	if (n > buf_room(c, &c->out))
		n = buf_room(c, &c->out);
	buf_put(c, &c->out, c->uin.p + c->uin.r, n);
	buf_consume(&c->uin, n);
	return a != buf_len(&c->in) || b != buf_len(&c->uin);
}

/* One state machine step; true when something changed. */
static bool step(struct px_conn *c)
{
	switch (c->state) {
	case ST_HEAD:
		return step_head(c);
	case ST_REQ_BODY:
		if (buf_len(&c->uin) && step_resp_head(c))
			return true;
		return step_req_body(c);
	case ST_RESP_HEAD:
		return step_resp_head(c);
	case ST_RESP_BODY:
		return step_resp_body(c);
	case ST_TUNNEL:
		return step_tunnel(c);
	}
	return false;
}

/* ---- I/O ---------------------------------------------------------------- */

static bool wants_client_read(const struct px_conn *c)
{
	return !c->client_eof && (c->state == ST_HEAD || c->state == ST_LINGER ||
				  c->state == ST_REQ_BODY || c->state == ST_TUNNEL);
}

static bool wants_up_read(const struct px_conn *c)
{
	return c->up && c->up->connected && !c->up_eof &&
	       (c->state == ST_REQ_BODY || c->state == ST_RESP_HEAD ||
		c->state == ST_RESP_BODY || c->state == ST_TUNNEL);
}

/*
 * Read one side, only when epoll said it is readable: 1 progress, 0
 * nothing, -1 fatal. A short read means the socket is drained, so the
 * next read waits for the next event instead of hitting EAGAIN.
 */
static int read_side(struct px_conn *c, int fd, struct px_buf *b, bool *eof,
		     bool *ready)
{
	size_t room;
	ssize_t n;

	if (!*ready || !(room = buf_room(c, b)))
		return 0;
	n = buf_fill(c, fd, b);
	if (n > 0) {
		*ready = (size_t)n == room;
		c->moved++;
		return 1;
	}
	*ready = false;
	if (n == 0) {
		*eof = true;
		return 1;
	}
	return n == -EAGAIN || n == -ENOSPC ? 0 : -1;
}

/*
 * Send what is pending. Inside the event loop only when a buffer is half
 * full (so the state machine never stalls on room); at the end of the
 * event everything, so a response leaves in one send, not one per step.
 */
static int flush_sides(struct px_conn *c, size_t threshold)
{
	size_t pending = buf_len(&c->uout) + buf_len(&c->out);
	int r;

	if (c->up && c->up->connected && buf_len(&c->uout) > threshold) {
		r = buf_flush(c->up->fd, &c->uout);
		if (r && r != -EAGAIN)
			c->up_eof = true;
	}
	if (buf_len(&c->out) > threshold) {
		r = buf_flush(c->fd, &c->out);
		if (r && r != -EAGAIN)
			return -1;
	}
	if (buf_len(&c->uout) + buf_len(&c->out) != pending)
		c->moved++;
	return 0;
}

static int do_io(struct px_conn *c)
{
	int p = 0, r;

	if (wants_client_read(c) &&
	    (r = read_side(c, c->fd, &c->in, &c->client_eof, &c->cl_ready)))
		p = r;
	if (p >= 0 && wants_up_read(c) &&
	    (r = read_side(c, c->up->fd, &c->uin, &c->up_eof, &c->up_ready))) {
		if (r < 0) /* a reset upstream reads as EOF */
			c->up_eof = true;
		p = 1;
	}
	if (p >= 0 && flush_sides(c, px_cfg.buf_size / 2))
		return -1;
	return p;
}

/* The upstream went away before it answered. */
static void upstream_lost(struct px_conn *c)
{
	c->up_eof = false;
	if (!c->resp_started) {
		local_reply(c, 502, NULL, "backend closed the connection\n",
			    !c->req_done);
		return;
	}
	c->keep_alive = false;
	finish_request(c, false);
}

/* React to either side having closed. -1: close the connection now. */
static int handle_eof(struct px_conn *c)
{
	if (c->up_eof) {
		if (c->state == ST_RESP_BODY &&
		    c->resp_body.kind == HTTP_BODY_UNTIL_CLOSE) {
			c->up_eof = false;
			finish_request(c, false);
		} else if (c->state == ST_RESP_HEAD || c->state == ST_REQ_BODY ||
			   c->state == ST_RESP_BODY || c->state == ST_TUNNEL) {
			upstream_lost(c);
		}
	}
	if (!c->client_eof)
		return 0;
	/* The client half-closed: finish what it sent, then close. A request
	 * (or body) it left unfinished can never complete. */
	c->keep_alive = false;
	if (c->state == ST_TUNNEL)
		return -1;
	if (c->state == ST_REQ_BODY && c->req_body.kind != HTTP_BODY_NONE &&
	    !buf_len(&c->in))
		return -1;
	if (c->state == ST_HEAD && !buf_len(&c->in))
		c->state = ST_CLOSING;
	return 0;
}

static void connect_done(struct px_conn *c, uint32_t ev)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		return;
	if (getsockopt(c->up->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
		local_reply(c, 503, NULL, "backend connection refused\n", true);
		return;
	}
	c->up->connected = true;
	c->state = ST_REQ_BODY;
	c->deadline = 0;
}

static void update_interest(struct px_conn *c)
{
	uint32_t want = 0;

	if (wants_client_read(c) && buf_has_room(&c->in))
		want |= EPOLLIN;
	if (buf_len(&c->out))
		want |= EPOLLOUT;
	px_epoll_set(c->w, c->fd, &c->h, &c->events, want | EPOLLRDHUP);
	if (!c->up)
		return;
	want = 0;
	if (c->state == ST_CONNECT)
		want = EPOLLOUT;
	else if (wants_up_read(c) && buf_has_room(&c->uin))
		want |= EPOLLIN;
	if (c->up->connected && buf_len(&c->uout))
		want |= EPOLLOUT;
	c->up->h.ptr = c->up;
	px_epoll_set(c->w, c->up->fd, &c->up->h, &c->up->events, want);
}

#define READ_EVENTS (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)

/*
 * Bodies and tunnels have no deadline of their own: a client (or backend)
 * that stops sending or reading mid-body would hold the connection and its
 * upstream forever. Each byte moved either way rearms --transfer-timeout;
 * a phase just entered (deadline 0) arms it. A request body is also held
 * to the route's timeouts.request.
 */
static void arm_transfer_deadline(struct px_conn *c, uint64_t moved_before)
{
	uint64_t d;

	if (c->state != ST_REQ_BODY && c->state != ST_RESP_BODY &&
	    c->state != ST_TUNNEL)
		return;
	if (c->deadline && c->moved == moved_before)
		return;
	d = px_now_ms() + px_cfg.transfer_timeout_ms;
	if (c->state == ST_REQ_BODY && c->request_deadline &&
	    c->request_deadline < d)
		d = c->request_deadline;
	c->deadline = d;
}

void px_conn_event(struct px_conn *c, bool from_upstream, uint32_t ev)
{
	uint64_t moved = c->moved;
	int i, io;
	bool progress;

	if (from_upstream && c->state == ST_CONNECT)
		connect_done(c, ev);
	if (ev & READ_EVENTS)
		*(from_upstream ? &c->up_ready : &c->cl_ready) = true;
	c->last_active = px_now_ms();
	for (i = 0; i < 64; i++) {
		io = do_io(c);
		if (io < 0 || handle_eof(c) < 0) {
			px_conn_close(c);
			return;
		}
		progress = io > 0;
		progress |= step(c);
		if (!progress)
			break;
	}
	if (flush_sides(c, 0) || handle_eof(c) < 0) {
		px_conn_close(c);
		return;
	}
	if (c->state == ST_LINGER) {
		buf_consume(&c->in, buf_len(&c->in));
		if (c->client_eof) {
			px_conn_close(c);
			return;
		}
	}
	if (c->state == ST_CLOSING && !buf_len(&c->out)) {
		/*
		 * Lingering close: closing with unread input makes the kernel
		 * answer with a reset, which can destroy the response we just
		 * sent before the client reads it. Send FIN, drain, then close.
		 */
		shutdown(c->fd, SHUT_WR);
		c->state = ST_LINGER;
		c->deadline = px_now_ms() + 2000;
	}
	arm_transfer_deadline(c, moved);
	trim_between_requests(c);
	update_interest(c);
}

/* ---- accept ------------------------------------------------------------- */

/*
 * What did the client dial? The sockops program published it under the
 * connection's 4-tuple and namespace. No entry: this connection did not
 * come through a redirect, and the proxy is no open relay.
 */
static int original_dst(int fd, struct ambit_l7_val *val)
{
	struct ambit_l7_key k;

	if (px_own_key(fd, &k))
		return -errno;
	if (bpf_map_lookup_elem(px_cfg.l7_map_fd, &k, val))
		return -ENOENT;
	return 0;
}

static void svc_key_of(const struct ambit_l7_val *v, struct ambit_svc_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, v->vip, sizeof(k->addr));
	k->port = v->vip_port;
	k->proto = IPPROTO_TCP;
	k->family = v->family;
}

static void conn_add(struct px_worker *w, int fd, int netns_fd,
		     const struct ambit_l7_val *v)
{
	struct px_conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return;
	}
	px_metrics_conn(w->id, PX_CONN_ACCEPTED);
	c->h.kind = PX_CLIENT;
	c->h.ptr = c;
	c->fd = fd;
	c->netns_fd = netns_fd;
	c->w = w;
	c->orig = *v;
	svc_key_of(v, &c->svc);
	c->state = ST_HEAD;
	c->keep_alive = true;
	c->cl_ready = true; /* the request may be there already */
	c->deadline = px_now_ms() + px_cfg.header_timeout_ms;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->n_conns++;
	update_interest(c);
}

void px_conn_accept(struct px_worker *w, struct px_listener *l)
{
	struct ambit_l7_val v;
	int fd, one = 1;

	while (!l->closed &&
	       (fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (w->n_conns >= px_cfg.max_conns || original_dst(fd, &v)) {
			bool full = w->n_conns >= px_cfg.max_conns;

			px_metrics_conn(w->id, full ? PX_CONN_OVER_LIMIT
						    : PX_CONN_NOT_REDIRECTED);
			pr_debug("refused a connection: %s", full ? "too many"
				 : "not redirected");
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof(one));
		conn_add(w, fd, l->netns_fd, &v);
	}
}

/* ---- timers ------------------------------------------------------------- */

/* The deadline of @c's phase passed. True when @c is gone. */
static bool expire(struct px_conn *c)
{
	switch (c->state) {
	case ST_HEAD:
		if (!buf_len(&c->in)) {
			px_conn_close(c); /* idle keep-alive: just go */
			return true;
		}
		local_reply(c, 408, NULL, NULL, true);
		return false;
	case ST_CONNECT:
		local_reply(c, 503, NULL, "backend connect timeout\n", true);
		return false;
	case ST_REQ_BODY:
		if (c->request_deadline && c->deadline >= c->request_deadline)
			local_reply(c, 504, NULL, "request timeout\n", true);
		else if (!buf_len(&c->uout)) /* we wait for the client's body */
			local_reply(c, 408, NULL, NULL, true);
		else
			local_reply(c, 504, NULL, "backend timeout\n", true);
		return false;
	case ST_RESP_HEAD:
		local_reply(c, 504, NULL, c->request_deadline ?
			    "request timeout\n" : "backend timeout\n", true);
		return false;
	default:
		px_conn_close(c);
		return true;
	}
}

/*
 * Draining, a keep-alive connection that asks nothing more is closed once
 * it has been quiet a while; busy ones get 'Connection: close' on their
 * next answer instead. A request already queued on the socket but not yet
 * read keeps it open: closing then would reset the client.
 */
static bool drain_idle(struct px_conn *c, uint64_t now)
{
	char b;

	if (!c->w->draining || c->state != ST_HEAD || buf_len(&c->in) ||
	    now - c->last_active < DRAIN_IDLE_MS ||
	    recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
		return false;
	px_conn_close(c);
	return true;
}

void px_conn_timeouts(struct px_worker *w, uint64_t now)
{
	struct px_conn *c = w->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (drain_idle(c, now))
			continue;
		if (c->deadline && now >= c->deadline && !expire(c))
			px_conn_event(c, false, 0); /* send what expire() wrote */
	}
}
