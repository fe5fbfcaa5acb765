/* SPDX-License-Identifier: Apache-2.0 */
#include "ward/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ward/error.h"

static enum ward_log_level g_min = WARD_LOG_INFO;
static enum ward_log_format g_format = WARD_LOG_FORMAT_AUTO;
static int g_fd = STDERR_FILENO;
static const char *g_component = "ward";
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void ward_log_setup(enum ward_log_level min, enum ward_log_format format, int fd)
{
	g_min = min;
	g_format = format;
	g_fd = fd;
}

void ward_log_set_component(const char *component)
{
	g_component = component;
}

int ward_log_format_parse(const char *s, enum ward_log_format *ret)
{
	if (strcmp(s, "auto") == 0)
		*ret = WARD_LOG_FORMAT_AUTO;
	else if (strcmp(s, "human") == 0)
		*ret = WARD_LOG_FORMAT_HUMAN;
	else if (strcmp(s, "json") == 0)
		*ret = WARD_LOG_FORMAT_JSON;
	else
		return -WARD_E_USAGE;
	return 0;
}

int ward_log_level_parse(const char *s, enum ward_log_level *ret)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0) {
			*ret = (enum ward_log_level)i;
			return 0;
		}
	return -WARD_E_USAGE;
}

bool ward_log_enabled(enum ward_log_level level)
{
	return level >= g_min;
}

/* A bounded line buffer: appends truncate instead of overflowing. */
struct line {
	char buf[4096];
	size_t len;
};

static void line_put(struct line *l, const char *s, size_t n)
{
	size_t room = sizeof(l->buf) - 1 - l->len;

	if (n > room)
		n = room;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void line_puts(struct line *l, const char *s)
{
	line_put(l, s, strlen(s));
}

/* JSON string escaping (RFC 8259): quotes, backslash, control characters. */
static void line_put_json_string(struct line *l, const char *s)
{
	line_put(l, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];

		switch (*p) {
		case '"':
			line_puts(l, "\\\"");
			break;
		case '\\':
			line_puts(l, "\\\\");
			break;
		case '\n':
			line_puts(l, "\\n");
			break;
		case '\r':
			line_puts(l, "\\r");
			break;
		case '\t':
			line_puts(l, "\\t");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				(void)snprintf(esc, sizeof(esc), "\\u%04x", *p);
				line_puts(l, esc);
			} else {
				line_put(l, (const char *)p, 1);
			}
		}
	}
	line_put(l, "\"", 1);
}

/* Human lines: control characters from messages are shown as '?', so input
 * echoed in an error cannot forge extra log lines or terminal escapes. */
static void line_put_human(struct line *l, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char c = (*p < 0x20 && *p != '\t') || *p == 0x7f ? '?' : (char)*p;
		line_put(l, &c, 1);
	}
}

static void emit(enum ward_log_level level, const char *msg, const char *const *kv)
{
	struct line l = {.len = 0};
	enum ward_log_format fmt = g_format;
	struct timeval tv;
	struct tm tm;
	char ts[40];

	if (fmt == WARD_LOG_FORMAT_AUTO)
		fmt = WARD_LOG_FORMAT_HUMAN;

	if (fmt == WARD_LOG_FORMAT_JSON) {
		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		(void)snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
			       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			       tm.tm_sec, (long)(tv.tv_usec / 1000));
		line_puts(&l, "{\"ts\":\"");
		line_puts(&l, ts);
		line_puts(&l, "\",\"level\":\"");
		line_puts(&l, level_names[level]);
		line_puts(&l, "\",\"component\":");
		line_put_json_string(&l, g_component);
		line_puts(&l, ",\"msg\":");
		line_put_json_string(&l, msg);
		for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2) {
			line_put(&l, ",", 1);
			line_put_json_string(&l, kv[i]);
			line_put(&l, ":", 1);
			line_put_json_string(&l, kv[i + 1]);
		}
		line_puts(&l, "}");
	} else {
		line_puts(&l, g_component);
		line_puts(&l, ": ");
		if (level != WARD_LOG_INFO) {
			line_puts(&l, level_names[level]);
			line_puts(&l, ": ");
		}
		line_put_human(&l, msg);
		for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2) {
			line_put(&l, " ", 1);
			line_put_human(&l, kv[i]);
			line_put(&l, "=", 1);
			line_put_human(&l, kv[i + 1]);
		}
	}
	l.buf[l.len++] = '\n';

	pthread_mutex_lock(&g_lock);
	for (size_t off = 0; off < l.len;) {
		ssize_t n = write(g_fd, l.buf + off, l.len - off);
		if (n <= 0)
			break; /* nowhere to report a failing log sink */
		off += (size_t)n;
	}
	pthread_mutex_unlock(&g_lock);
}

void ward_log(enum ward_log_level level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (!ward_log_enabled(level))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(level, msg, NULL);
}

void ward_logkv(enum ward_log_level level, const char *msg, const char *const *kv)
{
	if (!ward_log_enabled(level))
		return;
	emit(level, msg, kv);
}

void ward_trace(const char *component, const char *fmt, ...)
{
	static int enabled = -1;
	struct timespec ts;
	char line[512];
	va_list ap;
	int n;

	if (enabled < 0) {
		const char *e = getenv("WARD_TRACE");

		enabled = e && strcmp(e, "1") == 0;
	}
	if (!enabled)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(line, sizeof(line), "ward-trace %lld.%06ld %s: ", (long long)ts.tv_sec,
		     ts.tv_nsec / 1000, component);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		(void)vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* one write, so that lines of concurrent processes do not mix */
	n = (int)strnlen(line, sizeof(line) - 2);
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}
