/* SPDX-License-Identifier: Apache-2.0 */
/* Privilege drop before the app runs: Docker's default capability set,
 * the image's user and groups, and a seccomp allow-list shaped like
 * Docker's default profile. The filter is installed while ward-init still
 * holds CAP_SYS_ADMIN, so no_new_privs is not forced on the app (setuid
 * binaries in the image behave as under Docker); it allows the calls the
 * privilege drop itself makes afterwards. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ward/agent.h"
#include "ward/log.h"

#define CAP(x) (1ull << (x))

uint64_t ward_agent_default_caps(void)
{
	return CAP(CAP_CHOWN) | CAP(CAP_DAC_OVERRIDE) | CAP(CAP_FOWNER) | CAP(CAP_FSETID) |
	       CAP(CAP_KILL) | CAP(CAP_SETGID) | CAP(CAP_SETUID) | CAP(CAP_SETPCAP) |
	       CAP(CAP_NET_BIND_SERVICE) | CAP(CAP_NET_RAW) | CAP(CAP_SYS_CHROOT) | CAP(CAP_MKNOD) |
	       CAP(CAP_AUDIT_WRITE) | CAP(CAP_SETFCAP);
}

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int n = 40;

	if (f) {
		if (fscanf(f, "%d", &n) != 1 || n < 0 || n > 63)
			n = 40;
		fclose(f);
	}
	return n;
}

int ward_agent_drop_privileges(const struct ward_agent_ids *ids, uint64_t caps,
			       struct ward_err *err)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {0};
	int last = last_cap();

	for (int c = 0; c <= last; c++) {
		if (caps & CAP(c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return ward_err_errno(err, -errno,
					      "drop capability %d from the bounding set", c);
	}
	if (setgroups(ids->group_count, ids->groups) < 0)
		return ward_err_errno(err, -errno, "setgroups");
	if (setresgid(ids->gid, ids->gid, ids->gid) < 0)
		return ward_err_errno(err, -errno, "setgid %u", (unsigned)ids->gid);
	if (setresuid(ids->uid, ids->uid, ids->uid) < 0)
		return ward_err_errno(err, -errno, "setuid %u", (unsigned)ids->uid);
	/* root keeps the default set; for other users the kernel already
	 * cleared permitted/effective on setuid (as under Docker) */
	if (ids->uid == 0) {
		data[0].effective = data[0].permitted = data[0].inheritable = (uint32_t)caps;
		data[1].effective = data[1].permitted = data[1].inheritable =
		    (uint32_t)(caps >> 32);
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return ward_err_errno(err, -errno, "capset");
	return 0;
}

/* Docker's default allow-list (names that this libseccomp does not know
 * are skipped). */
static const char *const allowed[] = {
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "arch_prctl",
    "bind",
    "brk",
    "cachestat",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chroot",
    "clock_adjtime",
    "clock_getres",
    "clock_gettime",
    "clock_nanosleep",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "fchown",
    "fchownat",
    "fcntl",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstatfs",
    "fsync",
    "ftruncate",
    "futex",
    "futex_waitv",
    "futimesat",
    "get_mempolicy",
    "get_robust_list",
    "get_thread_area",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "geteuid",
    "getgid",
    "getgroups",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresuid",
    "getrlimit",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "gettid",
    "gettimeofday",
    "getuid",
    "getxattr",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_setup",
    "io_submit",
    "ioctl",
    "ioprio_get",
    "ioprio_set",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listxattr",
    "llistxattr",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "madvise",
    "map_shadow_stack",
    "mbind",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedsend",
    "mq_unlink",
    "mremap",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "nanosleep",
    "newfstatat",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "process_vm_readv",
    "process_vm_writev",
    "pselect6",
    "ptrace",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recvfrom",
    "recvmmsg",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_tgsigqueueinfo",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "sendfile",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "set_mempolicy",
    "set_robust_list",
    "set_thread_area",
    "set_tid_address",
    "setdomainname",
    "setfsgid",
    "setfsuid",
    "setgid",
    "setgroups",
    "sethostname",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setresgid",
    "setresuid",
    "setreuid",
    "setrlimit",
    "setsid",
    "setsockopt",
    "setuid",
    "setxattr",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "socket",
    "socketpair",
    "splice",
    "stat",
    "statfs",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_settime",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_settime",
    "times",
    "tkill",
    "truncate",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "write",
    "writev",
};

/* Kernel and host administration: a workload calling these is killed. */
static const char *const killed[] = {
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "create_module",
    "iopl",
    "ioperm",
    "swapon",
    "swapoff",
    "open_by_handle_at",
    "name_to_handle_at",
    "bpf",
    "userfaultfd",
    "perf_event_open",
    "lookup_dcookie",
    "fsopen",
    "fsmount",
    "fsconfig",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "nfsservctl",
    "uselib",
    "vm86",
    "vm86old",
};

int ward_agent_seccomp_install(struct ward_err *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	const uint64_t ns_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
				  CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | 0x80 /* TIME */;
	int r, nr;

	if (!ctx)
		return ward_err_set(err, -ENOMEM, "seccomp_init failed");
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		nr = seccomp_syscall_resolve_name(allowed[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r < 0 && r != -EDOM && r != -EEXIST)
			goto fail;
	}
	for (size_t i = 0; i < sizeof(killed) / sizeof(killed[0]); i++) {
		nr = seccomp_syscall_resolve_name(killed[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;
		r = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0);
		if (r < 0 && r != -EDOM && r != -EEXIST)
			goto fail;
	}
	/* clone without namespace flags; clone3 (flags in memory, not
	 * filterable) says ENOSYS so libcs fall back to clone */
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags, 0));
	if (r < 0)
		goto fail;
	r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r < 0)
		goto fail;
	/* personality: only the harmless values Docker allows */
	static const uint64_t personas[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};
	for (size_t i = 0; i < sizeof(personas) / sizeof(personas[0]); i++) {
		/* Spelled out: libseccomp's SCMP_A0() leaves datum_b implicit. */
		const struct scmp_arg_cmp cmp = {
			.arg = 0, .op = SCMP_CMP_EQ, .datum_a = personas[i], .datum_b = 0};

		r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1, &cmp);
		if (r < 0)
			goto fail;
	}
	/* mknod: every node type but block devices. The container may be
	 * allowed block devices (an ext4 root's loop device: the cgroup rule
	 * b 7:*, which in the sim TEE is the host's); the app must not make a
	 * node for one, even with CAP_MKNOD. */
	static const uint64_t node_types[] = {0, S_IFREG, S_IFCHR, S_IFIFO, S_IFSOCK};
	for (size_t i = 0; i < sizeof(node_types) / sizeof(node_types[0]); i++) {
		const struct scmp_arg_cmp m1 = {
		    .arg = 1, .op = SCMP_CMP_MASKED_EQ, .datum_a = S_IFMT, .datum_b = node_types[i]};
		const struct scmp_arg_cmp m2 = {
		    .arg = 2, .op = SCMP_CMP_MASKED_EQ, .datum_a = S_IFMT, .datum_b = node_types[i]};

		r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mknod), 1, &m1);
		if (r == 0)
			r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mknodat), 1, &m2);
		if (r < 0)
			goto fail;
	}
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		goto fail;
	/* a binary tree instead of a linear list of ~300 comparisons */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	r = seccomp_load(ctx);
	if (r < 0)
		goto fail;
	seccomp_release(ctx);
	return 0;
fail:
	seccomp_release(ctx);
	return ward_err_errno(err, r, "seccomp filter");
}
