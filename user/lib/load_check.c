// SPDX-License-Identifier: Apache-2.0
/*
 * Value checks of the loader (lcheck_fn): each returns NULL when the value
 * is fine, else what is wrong, phrased to follow the field path. The rules
 * are the Kubernetes and Gateway API v1 validation patterns.
 */
#include "load_priv.h"

#include <ctype.h>
#include <string.h>

static bool is_lower_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

static bool is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? repeated with '.' when @dots. */
static bool rfc1123(const char *s, size_t n, bool dots)
{
	size_t i;

	if (!n)
		return false;
	for (i = 0; i < n; i++) {
		bool edge = i == 0 || i == n - 1 || s[i - 1] == '.' ||
			    s[i + 1] == '.';

		if (is_lower_alnum(s[i]))
			continue;
		if (s[i] == '-' && !edge)
			continue;
		if (s[i] == '.' && dots && i && i != n - 1 && s[i - 1] != '.')
			continue;
		return false;
	}
	return true;
}

const char *chk_dns_subdomain(const char *s, size_t n)
{
	if (n <= 253 && rfc1123(s, n, true))
		return NULL;
	return "must be a lower-case RFC 1123 subdomain (a-z, 0-9, '-' and "
	       "'.', starting and ending with a letter or digit, at most 253 "
	       "characters)";
}

const char *chk_dns_label(const char *s, size_t n)
{
	if (n <= 63 && rfc1123(s, n, false))
		return NULL;
	return "must be a lower-case RFC 1123 label (a-z, 0-9 and '-', "
	       "starting and ending with a letter or digit, at most 63 "
	       "characters)";
}

/* IANA service name: what a named targetPort refers to. */
const char *chk_port_name(const char *s, size_t n)
{
	bool letter = false;
	size_t i;

	for (i = 0; i < n; i++)
		letter |= s[i] >= 'a' && s[i] <= 'z';
	if (n <= 15 && letter && rfc1123(s, n, false) && !strstr(s, "--"))
		return NULL;
	return "must be a port number or an IANA service name (a-z, 0-9 and "
	       "'-', at least one letter, no '--', at most 15 characters)";
}

const char *chk_precise_hostname(const char *s, size_t n)
{
	if (n <= 253 && rfc1123(s, n, true))
		return NULL;
	return "must be a lower-case hostname without wildcard (a-z, 0-9, "
	       "'-' and '.', at most 253 characters)";
}

const char *chk_hostname(const char *s, size_t n)
{
	size_t skip = n > 2 && s[0] == '*' && s[1] == '.' ? 2 : 0;

	if (n <= 253 && rfc1123(s + skip, n - skip, true))
		return NULL;
	return "must be a lower-case hostname, optionally prefixed by a "
	       "\"*.\" wildcard label (a-z, 0-9, '-' and '.', at most 253 "
	       "characters)";
}

const char *chk_group(const char *s, size_t n)
{
	if (!n || (n <= 253 && rfc1123(s, n, true)))
		return NULL;
	return "must be empty (the core group) or a lower-case RFC 1123 "
	       "subdomain";
}

/* ^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$ */
const char *chk_kind(const char *s, size_t n)
{
	static const char *const why =
		"must start with a letter and contain only letters, digits and "
		"'-' (at most 63 characters)";
	size_t i;

	if (!n || n > 63 || !is_alpha(s[0]) || s[n - 1] == '-')
		return why;
	for (i = 1; i < n; i++) {
		if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '-')
			return why;
	}
	return NULL;
}

/* RFC 7230 token characters. */
static bool is_tchar(char ch)
{
	return is_alpha(ch) || is_digit(ch) || (ch && strchr("!#$%&'*+-.^_`|~",
							     ch));
}

const char *chk_header_name(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && is_tchar(s[i]); i++)
		;
	if (n && n <= 256 && i == n)
		return NULL;
	return "must be an HTTP header name (1 to 256 letters, digits and "
	       "!#$%&'*+-.^_`|~)";
}

/* No CR, LF or other controls: they would split or smuggle headers. */
const char *chk_header_value(const char *s, size_t n)
{
	size_t i;

	if (!n || n > 4096)
		return "must be 1 to 4096 characters long";
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return "must not contain control characters";
	}
	return NULL;
}

/* ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$ */
static bool path_chars_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (is_alpha(s[i]) || is_digit(s[i]) ||
		    strchr("-/._~!$&'()*+,;=:@", s[i]))
			continue;
		if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			i += 2;
			continue;
		}
		return false;
	}
	return true;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && !memcmp(s + n - k, suffix, k);
}

/* The Gateway API rules for Exact and PathPrefix match values. */
const char *chk_abs_path(const char *s, size_t n)
{
	if (!n || s[0] != '/')
		return "must be an absolute path starting with '/'";
	if (n > 1024)
		return "must be at most 1024 characters long";
	if (strstr(s, "//") || strstr(s, "/./") || strstr(s, "/../") ||
	    ends_with(s, n, "/.") || ends_with(s, n, "/.."))
		return "must not contain '//', '/./' or '/../', nor end with "
		       "'/.' or '/..'";
	if (strstr(s, "%2f") || strstr(s, "%2F") || strchr(s, '#'))
		return "must not contain '%2f', '%2F' or '#'";
	if (!path_chars_ok(s, n))
		return "must contain only URL path characters "
		       "(-A-Za-z0-9/._~!$&'()*+,;=:@ and %XX escapes)";
	return NULL;
}
