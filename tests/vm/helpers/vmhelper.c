/* vmhelper: small probes for the cpushield test guest (static, no libs).
 *
 *   vmhelper write PATH VALUE        one write(2) of VALUE "\n"; prints "OK"
 *                                    or "ERR EIO Input/output error"
 *   vmhelper getaffinity PID         sched_getaffinity as a CPU list
 *   vmhelper setaffinity PID LIST    sched_setaffinity; prints OK / ERR ...
 *   vmhelper flags PID               "nosetaffinity" if PF_NO_SETAFFINITY,
 *                                    "kthread" if PF_KTHREAD, else "-"
 *   vmhelper sendframe IFNAME [N]    sends N (default 1) broadcast Ethernet
 *                                    frames (local experimental ethertype
 *                                    0x88b5, no IP) out of IFNAME, so that
 *                                    a NIC on the same QEMU hub takes RX
 *                                    interrupts
 *
 * Exit status: 0 on success, 1 when the operation failed, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

int main(int argc, char **argv)
{
	size_t size = CPU_ALLOC_SIZE(MAX_CPUS);
	cpu_set_t *set = CPU_ALLOC(MAX_CPUS);

	if (argc == 4 && !strcmp(argv[1], "write"))
		return do_write(argv[2], argv[3]);
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
	fprintf(stderr, "usage: vmhelper write PATH VALUE | getaffinity PID | "
			"setaffinity PID LIST | flags PID | sendframe IFNAME [N]\n");
	return 2;
}
