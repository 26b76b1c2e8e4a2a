// SPDX-License-Identifier: Apache-2.0
/* logfmt lines: values quoted and escaped so that every line parses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"

static void check_value(const char *in, size_t n, const char *want)
{
	char out[256];
	size_t len = logfmt_value(out, sizeof(out), in, n);

	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
}

#define CHECK(in, want) check_value(in, sizeof(in) - 1, want)

static void test_bare_values(void **state)
{
	CHECK("info", "info");
	CHECK("127.0.0.1:9080", "127.0.0.1:9080");
	CHECK("shop/reviews-v1", "shop/reviews-v1");
	CHECK("a\\b", "a\\b"); /* a backslash alone needs no quotes */
}

static void test_quoted_values(void **state)
{
	CHECK("", "\"\"");
	CHECK("two words", "\"two words\"");
	CHECK("k=v", "\"k=v\"");
	CHECK("say \"hi\"", "\"say \\\"hi\\\"\"");
	CHECK("a\\b c", "\"a\\\\b c\"");
	CHECK("line1\nline2", "\"line1\\nline2\"");
	CHECK("cr\rtab\t", "\"cr\\rtab\\t\"");
	CHECK("bell\x07" "del\x7f", "\"bell\\u0007del\\u007f\"");
	CHECK("nul\0byte", "\"nul\\u0000byte\"");
	assert_int_equal(logfmt_value((char[4]){ 0 }, 4, NULL, 5), 2);
}

static void test_utf8(void **state)
{
	CHECK("h\xc3\xa9llo", "\"h\xc3\xa9llo\"");            /* é kept */
	CHECK("\xe2\x82\xac", "\"\xe2\x82\xac\"");            /* € kept */
	CHECK("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");    /* emoji kept */
	CHECK("bad\xff", "\"bad\\xff\"");
	CHECK("\xc0\xaf", "\"\\xc0\\xaf\"");                  /* overlong '/' */
	CHECK("\xe2\x82", "\"\\xe2\\x82\"");                  /* cut short */
	CHECK("\xed\xa0\x80", "\"\\xed\\xa0\\x80\"");          /* surrogate */
	CHECK("\xf4\x90\x80\x80", "\"\\xf4\\x90\\x80\\x80\""); /* > U+10FFFF */
	CHECK("\x80x", "\"\\x80x\"");                         /* lone continuation */
}

static void test_cut_value_stays_closed(void **state)
{
	char out[8];
	size_t len = logfmt_value(out, sizeof(out), "a b c d e f", 11);

	assert_int_equal(len, 13);
	assert_int_equal(strlen(out), 7);
	assert_int_equal(out[0], '"');
	assert_int_equal(out[6], '"');
	/* An escape is never split: "ab\n..." cut keeps whole escapes. */
	len = logfmt_value(out, 6, "ab\n\n\n", 5);
	assert_int_equal(len, 10);
	assert_string_equal(out, "\"ab\"");
	len = logfmt_value(out, 4, "abcdef", 6);
	assert_int_equal(len, 6);
	assert_string_equal(out, "abc");
}

/* Capture what one call writes to stderr. */
static void capture(void (*fn)(void), char *buf, size_t size)
{
	int p[2], saved = dup(STDERR_FILENO);
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	dup2(p[1], STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[1]);
	n = read(p[0], buf, size - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = '\0';
}

static void log_some_fields(void)
{
	log_set_level(LOG_INFO);
	pr_info_kv("request done", LOG_STR("route", "shop/reviews"),
		   LOG_INT("rule", -1), LOG_UINT("code", 200),
		   LOG_STR("empty", ""), LOG_STR("null", NULL),
		   LOG_STR("bad key!", "x y"));
	pr_debug_kv("not shown", LOG_STR("k", "v"));
}

static void log_formatted(void)
{
	pr_warn("cannot open \"%s\": %s\n", "/x y", "No such file");
}

static void test_lines(void **state)
{
	char buf[1024], *body;

	capture(log_some_fields, buf, sizeof(buf));
	assert_memory_equal(buf, "ts=", 3);
	body = strstr(buf, " level=");
	assert_non_null(body);
	assert_string_equal(body, " level=info msg=\"request done\" "
		"route=shop/reviews rule=-1 code=200 empty=\"\" null=\"\" "
		"bad_key_=\"x y\"\n");
	capture(log_formatted, buf, sizeof(buf));
	body = strstr(buf, " level=");
	assert_non_null(body);
	assert_string_equal(body, " level=warn msg=\"cannot open \\\"/x y\\\": "
		"No such file\"\n");
}

static void test_levels(void **state)
{
	assert_int_equal(log_level_parse("debug"), LOG_DEBUG);
	assert_int_equal(log_level_parse("error"), LOG_ERR);
	assert_int_equal(log_level_parse("trace"), LOG_LIBBPF);
	assert_int_equal(log_level_parse("verbose"), -1);
	log_set_level(LOG_WARN);
	assert_true(log_enabled(LOG_ERR));
	assert_false(log_enabled(LOG_INFO));
	assert_string_equal(log_level_name(log_get_level()), "warn");
	log_set_level(99);
	assert_int_equal(log_get_level(), LOG_LIBBPF);
	log_set_level(LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bare_values),
		cmocka_unit_test(test_quoted_values),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_cut_value_stays_closed),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_levels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
