/* SPDX-License-Identifier: Apache-2.0 */
/* PID 1 duties: start the app as a child, forward signals to it, reap
 * every zombie (orphans are re-parented to us), and report the app's exit
 * status. The kernel delivers to PID 1 only signals it has handlers for,
 * so the forwarded ones are blocked and collected with sigwaitinfo(). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ward/agent.h"
#include "ward/log.h"

static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

/* execve with a PATH search using the app's environment (not ours). */
static void exec_app(char *const *argv, char *const *envp)
{
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	char buf[4096];
	int saved = ENOENT;

	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, envp);
		return;
	}
	for (char *const *e = envp; *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	while (*path) {
		const char *end = strchrnul(path, ':');
		size_t len = (size_t)(end - path);

		if (len == 0)
			len = 1, path = "."; /* an empty entry means the current directory */
		if (len + 1 + strlen(argv[0]) < sizeof(buf)) {
			memcpy(buf, path, len);
			buf[len] = '/';
			strcpy(buf + len + 1, argv[0]);
			execve(buf, argv, envp);
			if (errno != ENOENT && errno != ENOTDIR)
				saved = errno;
		}
		path = *end ? end + 1 : end;
	}
	errno = saved;
}

int ward_agent_run_child(char *const *argv, char *const *envp,
			 int (*before_exec)(void *ctx, struct ward_err *err), void *ctx,
			 int *ret_exit_code, struct ward_err *err)
{
	sigset_t set, old;
	pid_t child;
	int status = 0;
	bool child_done = false;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	if (sigprocmask(SIG_BLOCK, &set, &old) < 0)
		return ward_err_errno(err, -errno, "sigprocmask");

	child = fork();
	if (child < 0)
		return ward_err_errno(err, -errno, "fork");
	if (child == 0) {
		struct ward_err cerr = WARD_ERR_INIT;
		sigset_t none;

		/* the app starts with no signal blocked, whatever PID 1 blocks */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (before_exec && before_exec(ctx, &cerr) < 0) {
			fprintf(stderr, "ward-init: %s\n", cerr.msg);
			_exit(127);
		}
		exec_app(argv, envp);
		fprintf(stderr, "ward-init: cannot execute '%s': %s\n", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}

	while (!child_done) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);

		if (sig < 0) {
			if (errno == EINTR)
				continue;
			return ward_err_errno(err, -errno, "sigwaitinfo");
		}
		if (sig != SIGCHLD) {
			(void)kill(child, sig);
			continue;
		}
		for (;;) {
			int st;
			pid_t p = waitpid(-1, &st, WNOHANG);

			if (p <= 0)
				break;
			if (p == child) {
				status = st;
				child_done = true;
			}
		}
	}
	/* zombies left by the app: reap what is already dead */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (WIFEXITED(status))
		*ret_exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		*ret_exit_code = 128 + WTERMSIG(status);
	else
		*ret_exit_code = 1;
	return 0;
}
