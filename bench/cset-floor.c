// SPDX-License-Identifier: GPL-2.0-or-later
// cset-floor: the kernel's floor for a cgroup v1 shield, for bench/cset.sh
// (tests/vm/scenarios/bench-cset.sh runs it in the guest), plus the
// benchmark's timer and checker, so the guest starts no interpreter for them.
//
//   cset-floor shield    create the cpuset ROOT/floor with CPUs 0-1 (the
//                        root's mems) and write every TID of ROOT/tasks into
//                        it, one write(2) each (what the kernel refuses,
//                        e.g. per-CPU kernel threads, stays)
//   cset-floor giveback  write every TID of ROOT/floor/tasks back into
//                        ROOT/tasks, then remove ROOT/floor
//   cset-floor partition VMCPUS
//                        cgroup v2: the kernel's own work of a partition:
//                        +cpuset in V2ROOT/cgroup.subtree_control, the
//                        cgroup V2ROOT/floor.part with CPUs VMCPUS made an
//                        isolated partition (nothing is moved: every task
//                        outside loses those CPUs)
//   cset-floor unpartition
//                        back to member, the cgroup removed
//   cset-floor time CMD [ARG...]
//                        run CMD, print "wall=S cpu=S guestcpu=S rc=N":
//                        wall clock, CMD's user+system time (with its
//                        waited-for children), all CPUs' non-idle time
//                        from /proc/stat (the whole guest); CMD's
//                        output goes to stderr
//   cset-floor check VMCPUS
//                        over every thread: "user_on_vm=N user_narrow=N
//                        tasks=N" (user threads allowed on a VM CPU; user
//                        threads not allowed on every online CPU)
//
// ROOT is $CPUSET_ROOT or /sys/fs/cgroup/cpuset, V2ROOT /sys/fs/cgroup.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *root(void)
{
	const char *r = getenv("CPUSET_ROOT");
	return r && *r ? r : "/sys/fs/cgroup/cpuset";
}

static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	ssize_t r;

	if (fd < 0 || !buf) {
		perror(path);
		exit(1);
	}
	while ((r = read(fd, buf + n, cap - n)) > 0) {
		n += r;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			if (!buf)
				exit(1);
		}
	}
	close(fd);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

// one write(2) per TID on one open file; returns how many the kernel took
static long move_all(const char *from, const char *to, long *refused)
{
	char *tids = slurp(from, NULL), *save = NULL, *t;
	int fd = open(to, O_WRONLY);
	long moved = 0;

	if (fd < 0) {
		perror(to);
		exit(1);
	}
	for (t = strtok_r(tids, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
		if (write(fd, t, strlen(t)) > 0)
			moved++;
		else
			(*refused)++;
	}
	close(fd);
	free(tids);
	return moved;
}

static int shield(void)
{
	char set[512], path[600], *mems;
	long refused = 0, moved;

	snprintf(set, sizeof set, "%s/floor", root());
	if (mkdir(set, 0755) && errno != EEXIST) {
		perror(set);
		return 1;
	}
	snprintf(path, sizeof path, "%s/cpuset.cpus", set);
	if (write_str(path, "0-1")) {
		perror(path);
		return 1;
	}
	snprintf(path, sizeof path, "%s/cpuset.mems", root());
	mems = slurp(path, NULL);
	snprintf(path, sizeof path, "%s/cpuset.mems", set);
	if (write_str(path, mems)) {
		perror(path);
		return 1;
	}
	snprintf(path, sizeof path, "%s/tasks", root());
	char to[600];
	snprintf(to, sizeof to, "%s/tasks", set);
	moved = move_all(path, to, &refused);
	fprintf(stderr, "floor shield: moved %ld, refused %ld\n", moved, refused);
	return 0;
}

static int giveback(void)
{
	char from[600], to[600], set[512];
	long refused = 0, moved;

	snprintf(set, sizeof set, "%s/floor", root());
	snprintf(from, sizeof from, "%s/tasks", set);
	snprintf(to, sizeof to, "%s/tasks", root());
	moved = move_all(from, to, &refused);
	fprintf(stderr, "floor giveback: moved %ld, refused %ld\n", moved, refused);
	if (rmdir(set)) {
		perror(set);
		return 1;
	}
	return refused ? 1 : 0;
}

#define V2_PART "/sys/fs/cgroup/floor.part"

static int partition(const char *vmcpus)
{
	if (write_str("/sys/fs/cgroup/cgroup.subtree_control", "+cpuset")) {
		perror("+cpuset");
		return 1;
	}
	if (mkdir(V2_PART, 0755) && errno != EEXIST) {
		perror(V2_PART);
		return 1;
	}
	if (write_str(V2_PART "/cpuset.cpus", vmcpus) ||
	    write_str(V2_PART "/cpuset.cpus.partition", "isolated")) {
		perror(V2_PART);
		return 1;
	}
	char *state = slurp(V2_PART "/cpuset.cpus.partition", NULL);
	fprintf(stderr, "floor partition: %s", state);
	int bad = strncmp(state, "isolated\n", 9) != 0;
	free(state);
	return bad;
}

static int unpartition(void)
{
	if (write_str(V2_PART "/cpuset.cpus.partition", "member") || rmdir(V2_PART)) {
		perror(V2_PART);
		return 1;
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

// non-idle jiffies of all CPUs (first line of /proc/stat)
static double busy_secs(void)
{
	char *s = slurp("/proc/stat", NULL);
	unsigned long long v[10] = {0};
	sscanf(s, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
	       &v[3], &v[4], &v[5], &v[6], &v[7]);
	free(s);
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / sysconf(_SC_CLK_TCK);
}

static int timeit(char **argv)
{
	double t0 = now(), b0 = busy_secs(), t1, b1;
	struct rusage ru;
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		dup2(2, 1); // the command's output is not the timing line
		execvp(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) {
		perror("fork/wait");
		return 1;
	}
	t1 = now();
	b1 = busy_secs();
	printf("wall=%.3f cpu=%.3f guestcpu=%.2f rc=%d\n", t1 - t0,
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
		       ru.ru_stime.tv_usec / 1e6,
	       b1 - b0, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

// "2-7" -> bit mask (CPUs < 64)
static unsigned long long parse_list(const char *l)
{
	unsigned long long m = 0;
	while (*l && *l != '\n') {
		char *end;
		long a = strtol(l, &end, 10), b = a;
		if (end == l)
			break;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (long c = a; c <= b && c < 64; c++)
			m |= 1ULL << c;
		l = *end == ',' ? end + 1 : end;
	}
	return m;
}

static int check(const char *vmcpus)
{
	unsigned long long vm = parse_list(vmcpus), online;
	long on_vm = 0, narrow = 0, tasks = 0;
	DIR *d = opendir("/proc"), *td;
	struct dirent *e, *te;
	char path[600], *s, *p;

	s = slurp("/sys/devices/system/cpu/online", NULL);
	online = parse_list(s);
	free(s);
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/task", e->d_name);
		td = opendir(path);
		if (!td)
			continue;
		while ((te = readdir(td))) {
			unsigned long flags = 0;
			if (te->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "/proc/%s/task/%s/stat", e->d_name, te->d_name);
			int fd = open(path, O_RDONLY);
			char buf[1024];
			ssize_t n;
			if (fd < 0)
				continue;
			n = read(fd, buf, sizeof buf - 1);
			close(fd);
			if (n <= 0)
				continue;
			buf[n] = 0;
			p = strrchr(buf, ')');
			// after ")": state ppid pgrp session tty_nr tpgid flags
			if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
				continue;
			tasks++;
			if (flags & 0x00200000) // PF_KTHREAD
				continue;
			cpu_set_t set;
			CPU_ZERO(&set);
			if (sched_getaffinity(atoi(te->d_name), sizeof set, &set))
				continue;
			unsigned long long m = 0;
			for (int c = 0; c < 64; c++)
				if (CPU_ISSET(c, &set))
					m |= 1ULL << c;
			if (m & vm)
				on_vm++;
			if ((m & online) != online)
				narrow++;
		}
		closedir(td);
	}
	closedir(d);
	printf("user_on_vm=%ld user_narrow=%ld tasks=%ld\n", on_vm, narrow, tasks);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "shield"))
		return shield();
	if (argc >= 2 && !strcmp(argv[1], "giveback"))
		return giveback();
	if (argc >= 3 && !strcmp(argv[1], "partition"))
		return partition(argv[2]);
	if (argc >= 2 && !strcmp(argv[1], "unpartition"))
		return unpartition();
	if (argc >= 3 && !strcmp(argv[1], "time"))
		return timeit(argv + 2);
	if (argc >= 3 && !strcmp(argv[1], "check"))
		return check(argv[2]);
	fprintf(stderr, "usage: cset-floor shield|giveback|partition VMCPUS|unpartition|time CMD...|check VMCPUS\n");
	return 2;
}
