/* vmhelper: small probes for the cpushield test guest (static, no libs).
 *
 *   vmhelper write PATH VALUE        one write(2) of VALUE "\n"; prints "OK"
 *                                    or "ERR EIO Input/output error"
 *   vmhelper write-each PATH VALUE...  "write PATH VALUE" for each VALUE in
 *                                    turn (open, one write(2), close), one
 *                                    line each: "VALUE OK" or
 *                                    "VALUE ERR EINVAL Invalid argument"
 *                                    (e.g. moving every task of a cgroup:
 *                                    one process, not one per task)
 *   vmhelper getaffinity PID         sched_getaffinity as a CPU list
 *   vmhelper setaffinity PID LIST    sched_setaffinity; prints OK / ERR ...
 *   vmhelper flags PID               "nosetaffinity" if PF_NO_SETAFFINITY,
 *                                    "kthread" if PF_KTHREAD, else "-"
 *   vmhelper sendframe IFNAME [N]    sends N (default 1) broadcast Ethernet
 *                                    frames (local experimental ethertype
 *                                    0x88b5, no IP) out of IFNAME, so that
 *                                    a NIC on the same QEMU hub takes RX
 *                                    interrupts
 *   vmhelper snapshot [CGROUPDIR]    everything cpushield may touch, one line
 *                                    per item, in one process (the shell
 *                                    loop it replaces forked hundreds of
 *                                    times, minutes under TCG):
 *       task PID@STARTTIME ALLOWED CGROUP  per process (Cpus_allowed_list,
 *                                          first cpuset: or 0:: line)
 *       irq N LIST / irq default MASK      smp_affinity_list, default
 *       wq PATH MASK                       workqueue cpumask(_requested)
 *       pmqos PATH VALUE                   per-CPU pm_qos_resume_latency_us
 *       sysctl PATH VALUE                  watchdog_cpumask, stat_interval, each
 *                                          neighbour table's interval_probe_time_ms
 *       cgroup-dir DIR                     every directory under CGROUPDIR
 *                                          (default /sys/fs/cgroup)
 *       cgroup PATH VALUE                  cgroup.subtree_control, cpuset.cpus,
 *                                          cpuset.mems, cpuset.cpus.partition
 *                                    each group sorted by path (byte order),
 *                                    values as $(cat FILE) gives them
 *   vmhelper probe CPU SECONDS [CGROUPPROCS]
 *                                    the noise benchmark's stand-in vCPU:
 *                                    joins CGROUPPROCS (a cgroup.procs or
 *                                    tasks file) if given, pins itself to
 *                                    CPU, busy-loops SECONDS, and prints
 *                                    "PROBE cpu=N secs=S invol=X wait_ns=Y
 *                                    devirq=Z allirq=W irqs=L": involuntary
 *                                    context switches (/proc/self/status),
 *                                    runqueue wait (/proc/self/schedstat),
 *                                    interrupts on CPU N (numbered rows / all
 *                                    rows of /proc/interrupts) during the
 *                                    loop, L the numbered rows that counted
 *                                    ("24:3,25:1", or "-")
 *   vmhelper threads N               a process of N+1 threads that sleep
 *                                    until killed (a multi-threaded host
 *                                    process, for the v1 whole-process move)
 *   vmhelper tasks                   per process, PID order:
 *                                    "PID@STARTTIME KIND ALLOWED COMM"; KIND
 *                                    is kthread, kthread+nosetaffinity
 *                                    (PF_KTHREAD, PF_NO_SETAFFINITY), - for
 *                                    user tasks; ALLOWED is
 *                                    Cpus_allowed_list or - when unreadable;
 *                                    COMM as in /proc/PID/stat (may hold
 *                                    spaces: last field)
 *
 * Exit status: 0 on success, 1 when the operation failed, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CPUS 1024
#define PF_KTHREAD 0x00200000
#define PF_NO_SETAFFINITY 0x04000000

static int report(int r)
{
	if (r == 0) {
		puts("OK");
		return 0;
	}
	const char *name = strerrorname_np(errno);
	printf("ERR %s %s\n", name ? name : "?", strerror(errno));
	return 1;
}

static void print_list(const cpu_set_t *set, size_t size)
{
	int first = 1;
	for (int i = 0; i < MAX_CPUS; i++) {
		if (!CPU_ISSET_S(i, size, set))
			continue;
		int j = i;
		while (j + 1 < MAX_CPUS && CPU_ISSET_S(j + 1, size, set))
			j++;
		printf(first ? "" : ",");
		if (j == i)
			printf("%d", i);
		else
			printf("%d-%d", i, j);
		first = 0;
		i = j;
	}
	printf("\n");
}

static int parse_list(const char *s, cpu_set_t *set, size_t size)
{
	CPU_ZERO_S(size, set);
	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;
		if (end == s)
			return -1;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s)
				return -1;
		}
		if (a < 0 || b < a || b >= MAX_CPUS)
			return -1;
		for (long i = a; i <= b; i++)
			CPU_SET_S(i, size, set);
		s = end;
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -1;
		else
			break;
	}
	return 0;
}

static int do_write(const char *path, const char *value)
{
	size_t n = strlen(value);
	char *buf = malloc(n + 2);
	if (!buf)
		return 2;
	memcpy(buf, value, n);
	buf[n++] = '\n';
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return report(-1);
	}
	ssize_t w;
	do
		w = write(fd, buf, n);
	while (w < 0 && errno == EINTR);
	if (w >= 0 && (size_t)w != n) {
		printf("ERR short write %zd of %zu\n", w, n);
		close(fd);
		free(buf);
		return 1;
	}
	int r = report(w < 0 ? -1 : 0);
	close(fd);
	free(buf);
	return r;
}

static int do_flags(const char *pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return report(-1);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return report(-1);
	buf[n] = 0;
	/* Fields after the command name, which ends at the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return 1;
	unsigned long flags = 0;
	/* ") state ppid pgrp session tty_nr tpgid flags" */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return 1;
	if (flags & PF_NO_SETAFFINITY)
		puts("nosetaffinity");
	else if (flags & PF_KTHREAD)
		puts("kthread");
	else
		puts("-");
	return 0;
}

static int do_sendframe(const char *ifname, int count)
{
	unsigned ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return report(-1);
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(0x88b5));
	if (fd < 0)
		return report(-1);
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(0x88b5),
		.sll_ifindex = (int)ifindex,
		.sll_halen = ETH_ALEN,
		.sll_addr = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	unsigned char frame[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				    0x02, 0, 0, 0, 0, 1, 0x88, 0xb5 };
	for (int i = 0; i < count; i++) {
		if (sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&to,
			   sizeof(to)) < 0) {
			close(fd);
			return report(-1);
		}
	}
	close(fd);
	return report(0);
}

/* ---- snapshot ------------------------------------------------------------ */

/* A growing list of strings, sorted with strcmp (what the C locale's glob
 * and sort give). */
struct strv {
	char **v;
	size_t n, cap;
};

static void strv_add(struct strv *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v) {
			perror("vmhelper");
			exit(2);
		}
	}
	l->v[l->n] = strdup(s);
	if (!l->v[l->n]) {
		perror("vmhelper");
		exit(2);
	}
	l->n++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strv_sort(struct strv *l)
{
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_str);
}

static void strv_free(struct strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	*l = (struct strv){ 0 };
}

/* Contents of PATH into buf (at most size - 1 bytes), NUL-terminated;
 * -1 when it cannot be read (buf is then ""). */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	buf[0] = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = 0;
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			buf[0] = 0;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = 0;
	return (ssize_t)len;
}

/* Like $(cat PATH): the contents without trailing newlines. */
static const char *cat(const char *path, char *buf, size_t size)
{
	if (read_file(path, buf, size) < 0)
		fprintf(stderr, "cat: can't open '%s': %s\n", path, strerror(errno));
	size_t n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	return buf;
}

static int is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Names of DIR matching "PREFIX<digits>" (digits may be empty if any is
 * set), sorted, as full paths "DIR/NAME". */
static void list_dir(struct strv *out, const char *dir, const char *prefix,
		     int digits_only)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	size_t pl = strlen(prefix);
	struct dirent *e;
	char path[4096];
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, pl))
			continue;
		const char *rest = e->d_name + pl;
		if (digits_only && (*rest < '0' || *rest > '9'))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		strv_add(out, path);
	}
	closedir(d);
	strv_sort(out);
}

/* /proc/PID/stat fields after the command name: field 3 (state) is f[0]. */
static int stat_fields(const char *pid, char *comm, size_t comm_size,
		       unsigned long *flags, unsigned long long *start)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	char *open_paren = strchr(buf, '('), *p = strrchr(buf, ')');
	if (!p || !open_paren)
		return -1;
	if (comm) {
		size_t n = (size_t)(p - open_paren - 1);
		if (n >= comm_size)
			n = comm_size - 1;
		memcpy(comm, open_paren + 1, n);
		comm[n] = 0;
	}
	/* ") state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
	 *  cmajflt utime stime cutime cstime priority nice num_threads
	 *  itrealvalue starttime" */
	if (sscanf(p + 1,
		   " %*c %*d %*d %*d %*d %*d %lu %*u %*u %*u %*u %*u %*u %*d %*d"
		   " %*d %*d %*d %*d %llu",
		   flags, start) != 2)
		return -1;
	return 0;
}

/* The value of the "KEY:" line of status text (cut into lines in place),
 * blanks stripped: "" when absent. */
static void status_text_value(char *buf, const char *key, char *out, size_t size)
{
	size_t n = strlen(key);
	out[0] = 0;
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (!strncmp(line, key, n)) {
			const char *v = line + n;
			while (*v == ' ' || *v == '\t')
				v++;
			snprintf(out, size, "%s", v);
			return;
		}
		line = nl ? nl + 1 : NULL;
	}
}

/* The value of the "KEY:" line of /proc/PID/status: "" when absent. */
static void status_value(const char *pid, const char *key, char *out, size_t size)
{
	char path[64], buf[8192];
	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return;
	status_text_value(buf, key, out, size);
}

/* Cpus_allowed_list of /proc/PID/status, as the scenarios' cpus_allowed
 * (sed) gives it: "" when absent. */
static void cpus_allowed(const char *pid, char *out, size_t size)
{
	status_value(pid, "Cpus_allowed_list:", out, size);
}

/* The task's cgroup: the first line of /proc/PID/cgroup that is
 * "N:cpuset:PATH" or "0::PATH" (v1 cpuset hierarchy, else v2). */
static void task_cgroup(const char *pid, char *out, size_t size)
{
	char path[64], buf[8192];
	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/%s/cgroup", pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return;
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		const char *p = line;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p > line && !strncmp(p, ":cpuset:", 8)) {
			snprintf(out, size, "%s", p + 8);
			return;
		}
		if (!strncmp(line, "0::", 3)) {
			snprintf(out, size, "%s", line + 3);
			return;
		}
		line = nl ? nl + 1 : NULL;
	}
}

static void walk_dirs(struct strv *out, const char *dir)
{
	strv_add(out, dir);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char path[4096];
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			walk_dirs(out, path);
	}
	closedir(d);
}

static int is_cgroup_file(const char *name)
{
	return !strcmp(name, "cgroup.subtree_control") || !strcmp(name, "cpuset.cpus") ||
	       !strcmp(name, "cpuset.mems") || !strcmp(name, "cpuset.cpus.partition");
}

/* DIR/SUB/FILE for each subdirectory SUB of DIR, in name order. */
static void add_in_each(struct strv *out, const char *dir, const char *file)
{
	struct strv sub = { 0 };
	char path[4096];

	list_dir(&sub, dir, "", 0);
	for (size_t i = 0; i < sub.n; i++) {
		snprintf(path, sizeof(path), "%s/%s", sub.v[i], file);
		strv_add(out, path);
	}
	strv_free(&sub);
}

/* "TAG PATH VALUE" for each of files that exists; then empties files. */
static void print_files(const char *tag, struct strv *files)
{
	static char buf[65536];

	for (size_t i = 0; i < files->n; i++)
		if (is_file(files->v[i]))
			printf("%s %s %s\n", tag, files->v[i], cat(files->v[i], buf, sizeof(buf)));
	strv_free(files);
}

static int do_snapshot(const char *cgroot)
{
	static char buf[65536], allowed[8192], cg[4096];
	char path[4096];
	struct strv l = { 0 };

	list_dir(&l, "/proc", "", 1);
	for (size_t i = 0; i < l.n; i++) {
		const char *pid = l.v[i] + strlen("/proc/");
		unsigned long flags;
		unsigned long long start;
		if (stat_fields(pid, NULL, 0, &flags, &start) < 0)
			continue; /* exited */
		cpus_allowed(pid, allowed, sizeof(allowed));
		task_cgroup(pid, cg, sizeof(cg));
		printf("task %s@%llu %s %s\n", pid, start, allowed, cg);
	}
	strv_free(&l);

	list_dir(&l, "/proc/irq", "", 1);
	for (size_t i = 0; i < l.n; i++) {
		snprintf(path, sizeof(path), "%s/smp_affinity_list", l.v[i]);
		if (is_file(path))
			printf("irq %s %s\n", l.v[i] + strlen("/proc/irq/"),
			       cat(path, buf, sizeof(buf)));
	}
	strv_free(&l);
	printf("irq default %s\n", cat("/proc/irq/default_smp_affinity", buf, sizeof(buf)));

	strv_add(&l, "/sys/devices/virtual/workqueue/cpumask");
	strv_add(&l, "/sys/devices/virtual/workqueue/cpumask_requested");
	add_in_each(&l, "/sys/devices/virtual/workqueue", "cpumask");
	print_files("wq", &l);

	list_dir(&l, "/sys/devices/system/cpu", "cpu", 0);
	for (size_t i = 0; i < l.n; i++) {
		snprintf(path, sizeof(path), "%s/power/pm_qos_resume_latency_us", l.v[i]);
		if (access(path, F_OK) == 0)
			printf("pmqos %s %s\n", path, cat(path, buf, sizeof(buf)));
	}
	strv_free(&l);

	/* the quiet resource's sysctls; a write to the neighbour tables'
	 * default reaches every device that has not set its own */
	strv_add(&l, "/proc/sys/kernel/watchdog_cpumask");
	strv_add(&l, "/proc/sys/vm/stat_interval");
	add_in_each(&l, "/proc/sys/net/ipv4/neigh", "interval_probe_time_ms");
	add_in_each(&l, "/proc/sys/net/ipv6/neigh", "interval_probe_time_ms");
	print_files("sysctl", &l);

	walk_dirs(&l, cgroot);
	strv_sort(&l);
	for (size_t i = 0; i < l.n; i++)
		printf("cgroup-dir %s\n", l.v[i]);
	struct strv files = { 0 };
	for (size_t i = 0; i < l.n; i++) {
		DIR *d = opendir(l.v[i]);
		if (!d)
			continue;
		struct dirent *e;
		while ((e = readdir(d)))
			if (is_cgroup_file(e->d_name)) {
				snprintf(path, sizeof(path), "%s/%s", l.v[i], e->d_name);
				strv_add(&files, path);
			}
		closedir(d);
	}
	strv_free(&l);
	strv_sort(&files);
	for (size_t i = 0; i < files.n; i++)
		printf("cgroup %s %s\n", files.v[i], cat(files.v[i], buf, sizeof(buf)));
	strv_free(&files);
	return fflush(stdout) == 0 ? 0 : 1;
}

static void *sleeper(void *arg)
{
	(void) arg;
	for (;;)
		pause();
	return NULL;
}

static int do_threads(int n)
{
	for (int i = 0; i < n; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, sleeper, NULL) != 0) {
			fprintf(stderr, "vmhelper: pthread_create failed after %d threads\n", i);
			return 1;
		}
	}
	sleeper(NULL);
	return 0;
}

static int do_tasks(void)
{
	static char allowed[8192];
	char comm[256];
	struct strv l = { 0 };
	list_dir(&l, "/proc", "", 1);
	for (size_t i = 0; i < l.n; i++) {
		const char *pid = l.v[i] + strlen("/proc/");
		unsigned long flags;
		unsigned long long start;
		if (stat_fields(pid, comm, sizeof(comm), &flags, &start) < 0)
			continue;
		cpus_allowed(pid, allowed, sizeof(allowed));
		const char *kind = "-";
		if ((flags & PF_KTHREAD) && (flags & PF_NO_SETAFFINITY))
			kind = "kthread+nosetaffinity";
		else if (flags & PF_KTHREAD)
			kind = "kthread";
		else if (flags & PF_NO_SETAFFINITY)
			kind = "nosetaffinity";
		printf("%s@%llu %s %s %s\n", pid, start, kind, allowed[0] ? allowed : "-",
		       comm);
	}
	strv_free(&l);
	return fflush(stdout) == 0 ? 0 : 1;
}


/* The probe's counters come from files opened before its window and read
 * again with pread: opening and closing a file inside the window would
 * itself leave deferred frees (RCU callbacks, kfree_rcu batches) to run on
 * the probe's CPU, counted as noise that the host never caused. */
static char probe_buf[1 << 20];

static size_t pread_all(int fd) {
	size_t n = 0;
	ssize_t k;

	/* procfs hands out a page or so per read: read to the end */
	while (n < sizeof probe_buf - 1 && (k = pread(fd, probe_buf + n, sizeof probe_buf - 1 - n, (off_t) n)) > 0)
		n += (size_t) k;
	probe_buf[n] = 0;
	return n;
}

static long long status_field(int fd, const char *key) {
	char v[64];

	if (pread_all(fd) == 0)
		return -1;
	status_text_value(probe_buf, key, v, sizeof v);
	return v[0] ? atoll(v) : -1;
}

static long long run_delay_ns(int fd) {
	unsigned long long run = 0, wait = 0;

	if (pread_all(fd) == 0 || sscanf(probe_buf, "%llu %llu", &run, &wait) != 2)
		return -1;
	return (long long) wait;
}

/* Interrupts taken by CPU cpu: numbered (device) rows and all rows. */
/* Per device IRQ line (its label, "24" or "NMI"...), the count on the
 * probe's CPU: which ones fired in the window. */
#define IRQ_LINES 256
struct irq_count {
	char name[16];
	long long n;
};

static void irqs_on(int fd, int cpu, long long *ret_dev, long long *ret_all, struct irq_count *lines) {
	int col = -1, c = 0, k = 0;

	*ret_dev = *ret_all = 0;
	memset(lines, 0, IRQ_LINES * sizeof *lines);
	if (pread_all(fd) == 0)
		return;
	char *save = NULL, *line = strtok_r(probe_buf, "\n", &save);
	/* the header names the online CPUs: find cpu's column */
	for (char *p = line; p && (p = strstr(p, "CPU")); p += 3, c++)
		if (atoi(p + 3) == cpu)
			col = c;
	if (col < 0)
		return;
	while ((line = strtok_r(NULL, "\n", &save))) {
		char *colon = strchr(line, ':'), *p, *end;
		if (!colon)
			continue;
		bool dev = isdigit((unsigned char) line[strspn(line, " ")]);
		p = colon + 1;
		for (int i = 0; i <= col; i++) {
			long long v = strtoll(p, &end, 10);
			if (end == p)
				goto next;
			if (i == col) {
				*ret_all += v;
				if (dev)
					*ret_dev += v;
				if (dev && k < IRQ_LINES) {
					size_t l = strspn(line, " ");
					snprintf(lines[k].name, sizeof lines[k].name, "%.*s",
						 (int) (colon - line) - (int) l, line + l);
					lines[k++].n = v;
				}
			}
			p = end;
		}
	next:;
	}
}

/* A line in the trace buffer, when tracing is mounted: lets a trace of a
 * probe's CPU be cut to the window it counted. */
static void marker(int fd, int cpu, const char *what) {
	char line[64];

	if (fd < 0)
		return;
	snprintf(line, sizeof line, "PROBE cpu=%d %s\n", cpu, what);
	if (write(fd, line, strlen(line)) < 0) {
		/* no trace buffer: nothing to mark */
	}
}

static int do_probe(int cpu, double secs, const char *procs) {
	cpu_set_t set;
	struct timespec t0, t;
	long long inv0, inv1, w0, w1, d0, d1, a0, a1;
	volatile unsigned long long spin = 0;
	static struct irq_count irq0[IRQ_LINES], irq1[IRQ_LINES];
	int status, schedstat, interrupts, mark;

	if (procs) {
		char id[32];
		int fd = open(procs, O_WRONLY);
		snprintf(id, sizeof id, "%d\n", getpid());
		if (fd < 0 || write(fd, id, strlen(id)) < 0) {
			fprintf(stderr, "vmhelper probe: %s: %s\n", procs, strerror(errno));
			return 1;
		}
		close(fd);
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) < 0) {
		fprintf(stderr, "vmhelper probe: CPU %d: %s\n", cpu, strerror(errno));
		return 1;
	}
	status = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	schedstat = open("/proc/self/schedstat", O_RDONLY | O_CLOEXEC);
	interrupts = open("/proc/interrupts", O_RDONLY | O_CLOEXEC);
	mark = open("/sys/kernel/tracing/trace_marker", O_WRONLY | O_CLOEXEC);
	if (status < 0 || schedstat < 0 || interrupts < 0) {
		fprintf(stderr, "vmhelper probe: /proc: %s\n", strerror(errno));
		return 1;
	}
	/* Settle first, so that a vCPU is measured in its steady state: the six
	 * probes start together, and each one's move to its CPU runs that
	 * CPU's migration thread, which would preempt a sibling already
	 * counting; the move into the cgroup frees objects through kfree_rcu,
	 * whose batch 6.1 drains from this CPU 5 s later. */
	nanosleep(&(struct timespec){ .tv_sec = 6 }, NULL);
	marker(mark, cpu, "begin");
	inv0 = status_field(status, "nonvoluntary_ctxt_switches:");
	w0 = run_delay_ns(schedstat);
	irqs_on(interrupts, cpu, &d0, &a0, irq0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 100000; i++)
			spin++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double) (t.tv_sec - t0.tv_sec) + (double) (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	inv1 = status_field(status, "nonvoluntary_ctxt_switches:");
	marker(mark, cpu, "end");
	w1 = run_delay_ns(schedstat);
	irqs_on(interrupts, cpu, &d1, &a1, irq1);
	/* which device IRQs fired: "irqs=24:3,25:1", or "irqs=-" */
	char which[512] = "-";
	size_t len = 0;
	for (int i = 0; i < IRQ_LINES && irq1[i].name[0]; i++)
		for (int j = 0; j < IRQ_LINES && irq0[j].name[0]; j++)
			if (!strcmp(irq0[j].name, irq1[i].name)) {
				if (irq1[i].n > irq0[j].n && len < sizeof which - 32)
					len += (size_t) snprintf(which + len, sizeof which - len, "%s%s:%lld",
								 len ? "," : "", irq1[i].name, irq1[i].n - irq0[j].n);
				break;
			}
	printf("PROBE cpu=%d secs=%.2f invol=%lld wait_ns=%lld devirq=%lld allirq=%lld irqs=%s\n", cpu,
	       (double) (t.tv_sec - t0.tv_sec) + (double) (t.tv_nsec - t0.tv_nsec) / 1e9, inv1 - inv0, w1 - w0,
	       d1 - d0, a1 - a0, which);
	return 0;
}

int main(int argc, char **argv)
{
	size_t size = CPU_ALLOC_SIZE(MAX_CPUS);
	cpu_set_t *set = CPU_ALLOC(MAX_CPUS);

	if (argc == 4 && !strcmp(argv[1], "write"))
		return do_write(argv[2], argv[3]);
	if (argc >= 3 && !strcmp(argv[1], "write-each")) {
		int r = 0;
		for (int i = 3; i < argc; i++) {
			printf("%s ", argv[i]);
			fflush(stdout);
			if (do_write(argv[2], argv[i]) == 1)
				r = 1;
		}
		return r;
	}
	if (argc == 3 && !strcmp(argv[1], "getaffinity")) {
		if (sched_getaffinity(atoi(argv[2]), size, set) < 0)
			return report(-1);
		print_list(set, size);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "setaffinity")) {
		if (parse_list(argv[3], set, size) < 0) {
			fprintf(stderr, "vmhelper: bad CPU list %s\n", argv[3]);
			return 2;
		}
		return report(sched_setaffinity(atoi(argv[2]), size, set));
	}
	if (argc == 3 && !strcmp(argv[1], "flags"))
		return do_flags(argv[2]);
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "sendframe"))
		return do_sendframe(argv[2], argc == 4 ? atoi(argv[3]) : 1);
	if ((argc == 2 || argc == 3) && !strcmp(argv[1], "snapshot"))
		return do_snapshot(argc == 3 ? argv[2] : "/sys/fs/cgroup");
	if (argc == 2 && !strcmp(argv[1], "tasks"))
		return do_tasks();
	if (argc == 3 && !strcmp(argv[1], "threads"))
		return do_threads(atoi(argv[2]));
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "probe"))
		return do_probe(atoi(argv[2]), atof(argv[3]), argc == 5 ? argv[4] : NULL);
	fprintf(stderr, "usage: vmhelper write PATH VALUE | write-each PATH VALUE... | "
			"getaffinity PID | "
			"setaffinity PID LIST | flags PID | sendframe IFNAME [N] | "
			"snapshot [CGROUPDIR] | tasks | threads N | probe CPU SECONDS [CGROUPPROCS]\n");
	return 2;
}
