/* SPDX-License-Identifier: Apache-2.0 */
#include <unistd.h>

#include "ward-test.h"
#include "ward/error.h"
#include "ward/log.h"


static size_t drain(int fd, char *out, size_t size)
{
	ssize_t n = read(fd, out, size - 1);

	out[n > 0 ? n : 0] = '\0';
	return n > 0 ? (size_t)n : 0;
}

WARD_TEST(human_format)
{
	int p[2];
	char buf[512];

	CHECK(pipe(p) == 0);
	ward_log_set_component("test");
	ward_log_setup(WARD_LOG_INFO, WARD_LOG_FORMAT_HUMAN, p[1]);
	ward_info("hello %d", 42);
	drain(p[0], buf, sizeof(buf));
	CHECK_STR(buf, "test: hello 42\n");
	ward_warn("careful");
	drain(p[0], buf, sizeof(buf));
	CHECK_STR(buf, "test: warn: careful\n");
	close(p[0]);
	close(p[1]);
}

WARD_TEST(level_filter)
{
	int p[2];
	char buf[512];

	CHECK(pipe(p) == 0);
	ward_log_setup(WARD_LOG_WARN, WARD_LOG_FORMAT_HUMAN, p[1]);
	CHECK(!ward_log_enabled(WARD_LOG_INFO));
	CHECK(ward_log_enabled(WARD_LOG_ERROR));
	ward_info("hidden");
	ward_error("shown");
	drain(p[0], buf, sizeof(buf));
	CHECK(strstr(buf, "hidden") == NULL);
	CHECK(strstr(buf, "error: shown") != NULL);
	close(p[0]);
	close(p[1]);
}

WARD_TEST(json_format_escapes)
{
	int p[2];
	char buf[1024];

	CHECK(pipe(p) == 0);
	ward_log_set_component("co\"mp");
	ward_log_setup(WARD_LOG_DEBUG, WARD_LOG_FORMAT_JSON, p[1]);
	ward_info("line1\nline2 \"q\" \\ \x01");
	drain(p[0], buf, sizeof(buf));
	CHECK(buf[0] == '{');
	CHECK(strstr(buf, "\"level\":\"info\"") != NULL);
	CHECK(strstr(buf, "\"component\":\"co\\\"mp\"") != NULL);
	CHECK(strstr(buf, "\"msg\":\"line1\\nline2 \\\"q\\\" \\\\ \\u0001\"") != NULL);
	CHECK(strchr(buf, '\n') == buf + strlen(buf) - 1);
	const char *kv[] = {"tee", "sim", "result", "ok", NULL};
	ward_logkv(WARD_LOG_INFO, "attested", kv);
	drain(p[0], buf, sizeof(buf));
	CHECK(strstr(buf, "\"tee\":\"sim\",\"result\":\"ok\"}") != NULL);
	close(p[0]);
	close(p[1]);
}

WARD_TEST(human_neutralises_control_chars)
{
	int p[2];
	char buf[512];

	CHECK(pipe(p) == 0);
	ward_log_set_component("t");
	ward_log_setup(WARD_LOG_INFO, WARD_LOG_FORMAT_HUMAN, p[1]);
	ward_info("a\nfake line\x1b[31m");
	drain(p[0], buf, sizeof(buf));
	CHECK_STR(buf, "t: a?fake line?[31m\n");
	close(p[0]);
	close(p[1]);
}

WARD_TEST(parse_options)
{
	enum ward_log_format f;
	enum ward_log_level l;

	CHECK_OK(ward_log_format_parse("json", &f), NULL);
	CHECK_INT(f, ==, WARD_LOG_FORMAT_JSON);
	CHECK_OK(ward_log_format_parse("human", &f), NULL);
	CHECK_OK(ward_log_format_parse("auto", &f), NULL);
	CHECK_ERR(ward_log_format_parse("xml", &f), -WARD_E_USAGE);
	CHECK_OK(ward_log_level_parse("debug", &l), NULL);
	CHECK_INT(l, ==, WARD_LOG_DEBUG);
	CHECK_ERR(ward_log_level_parse("loud", &l), -WARD_E_USAGE);
}

WARD_TEST_MAIN()
