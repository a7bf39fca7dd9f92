/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A client of irqbalance's runtime socket, the one its UI talks to. The
 * protocol as irqbalance (1.2 and later) implements it:
 * - one command per connection, sent in one message carrying the sender's
 *   credentials (SCM_CREDENTIALS); irqbalance answers only to uid 0;
 * - `setup` is answered with "SLEEP <s> [IRQ ..]... BANNED <hex mask>", then
 *   irqbalance closes the connection; `settings ...` gets no answer;
 * - the socket is /run/irqbalance/irqbalance<PID>.sock (1.5 and later), or
 *   an abstract one: "\0irqbalance<PID>.sock" (1.2 to 1.4), or the all-zero
 *   name later versions fall back to when /run/irqbalance is missing.
 * The socket file is reached below the host's root (a fixture tree may hold
 * one served by a test); abstract sockets exist only for the real root.
 * Every exchange is bounded by a one-second timeout, so a hung irqbalance
 * never blocks a run. */
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "cpuset.h"
#include "fs.h"
#include "irqbalance.h"

/* irqbalance answers from its main loop. A read gets a few seconds (a run,
 * the hook included, must not hang on a stuck irqbalance). After a change
 * of its banned CPUs the rescan holds that loop for up to one sleep
 * interval (10 s by default; seen in the systemd guests, where 1 s and 5 s
 * limits failed the requests of every change), so a change waits longer.
 * connect(2) waits as long while the one-connection backlog is full. */
#define READ_TIMEOUT_MS 3000
#define CHANGE_TIMEOUT_MS 12000
#define MAX_REPLY (1u << 20)
#define POLL_MS 200
#define MAX_WAIT_S 30u /* for a rescan, whatever irqbalance's interval */

int irqbalance_parse_setup(const char *reply, char **ret_banned_list, unsigned *ret_sleep) {
        _cleanup_free_ char *copy = xstrdup(strempty(reply));
        char *save = NULL, *mask = NULL;
        unsigned sleep = 0;
        bool banned = false;
        CpuSet s = {};

        for (char *tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
                if (banned) {
                        if (mask) /* nothing follows the mask */
                                return -EBADMSG;
                        mask = tok;
                } else if (streq(tok, "BANNED"))
                        banned = true;
                else if (streq(tok, "SLEEP")) {
                        char *v = strtok_r(NULL, " \t\n", &save);
                        if (!v || safe_atou(v, &sleep) < 0)
                                return -EBADMSG;
                }
        }
        if (!mask || cpuset_parse_mask(mask, &s) < 0)
                return -EBADMSG;
        *ret_banned_list = cpuset_format_list(&s);
        cpuset_free(&s);
        if (ret_sleep)
                *ret_sleep = sleep;
        return 0;
}

static bool is_irqbalance(const Host *h, unsigned pid) {
        _cleanup_free_ char *path = xasprintf("/proc/%u/comm", pid), *comm = NULL;

        return read_attr(h->root_fd, path, &comm) >= 0 && streq(strstrip(comm), "irqbalance");
}

/* Under systemd, with a v2 (or hybrid's unified) hierarchy, irqbalance runs
 * as its unit: the unit's cgroup.procs names it, one file instead of every
 * process's comm (one started by hand outside its unit is not seen there). */
static bool unit_known(const Host *h) {
        return (h->loaded & HOST_CGROUPS) && h->cg.systemd && h->cg.v2_mount;
}

static int from_unit(const Host *h) {
        _cleanup_free_ char *path = xasprintf("%s/system.slice/irqbalance.service/cgroup.procs", h->cg.v2_mount);
        _cleanup_free_ char *procs = NULL;
        char *save = NULL;

        if (read_attr(h->root_fd, path, &procs) < 0)
                return -ESRCH;
        for (char *l = strtok_r(procs, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                unsigned pid;
                if (safe_atou(l, &pid) >= 0 && pid > 1 && is_irqbalance(h, pid))
                        return (int) pid;
        }
        return -ESRCH;
}

/* The running irqbalance and its socket directory (opened once: the host is
 * read once per run). */
typedef struct Daemon {
        int pid;
        int dfd; /* /run/irqbalance below the root, or -1 */
} Daemon;

static void daemon_done(Daemon *d) {
        if (d->dfd >= 0)
                close(d->dfd);
        d->dfd = -1;
}

static int locate(const Host *h, Daemon *ret) {
        StrList l = {};
        int found = -ESRCH;

        ret->dfd = root_openat(h->root_fd, IRQBALANCE_SOCKET_DIR, O_RDONLY | O_DIRECTORY, 0);
        /* One whose socket is there first: a socket's name carries its PID. */
        if (ret->dfd >= 0 && list_dir(ret->dfd, ".", &l) >= 0)
                for (size_t i = 0; i < l.n && found < 0; i++) {
                        const char *n = l.v[i];
                        size_t len = strlen(n);
                        unsigned pid;
                        if (!startswith(n, "irqbalance") || len < strlen("irqbalance.sock") ||
                            !streq(n + len - strlen(".sock"), ".sock"))
                                continue;
                        _cleanup_free_ char *num = xstrndup(n + strlen("irqbalance"),
                                                            len - strlen("irqbalance.sock"));
                        if (safe_atou(num, &pid) >= 0 && pid > 0 && is_irqbalance(h, pid))
                                found = (int) pid;
                }
        strlist_free(&l);
        if (found < 0 && (h->loaded & HOST_TASKS) && !h->tasks_partial) {
                /* Every task was read already. */
                for (size_t i = 0; i < h->n_tasks && found < 0; i++)
                        if (h->tasks[i].pid == h->tasks[i].tgid && streq_ptr(h->tasks[i].comm, "irqbalance"))
                                found = h->tasks[i].pid;
        } else if (found < 0 && unit_known(h))
                found = from_unit(h);
        else if (found < 0 && list_numeric(h->root_fd, "/proc", &l) >= 0) {
                /* PID 1 is the init system, whatever its name */
                for (size_t i = 0; i < l.n && found < 0; i++) {
                        unsigned pid;
                        if (safe_atou(l.v[i], &pid) >= 0 && pid > 1 && is_irqbalance(h, pid))
                                found = (int) pid;
                }
                strlist_free(&l);
        }
        if (found < 0) {
                daemon_done(ret);
                return found;
        }
        ret->pid = found;
        return 0;
}

int irqbalance_find(const Host *h, int *ret_pid) {
        Daemon d = { .dfd = -1 };
        int r = locate(h, &d);

        if (r >= 0)
                *ret_pid = d.pid;
        daemon_done(&d);
        return r;
}

static int errno_timeout(int e) {
        return e == EAGAIN || e == EWOULDBLOCK || e == EINPROGRESS ? -ETIMEDOUT : -e;
}

/* Connected to addr; -ENOENT when nothing listens there. */
static int try_connect(int fd, const struct sockaddr_un *addr, socklen_t len) {
        if (connect(fd, (const struct sockaddr *) addr, len) >= 0)
                return 0;
        if (errno == ECONNREFUSED || errno == ENOENT)
                return -ENOENT;
        return errno_timeout(errno);
}

/* The peer must be root's (or ours: a test's server). */
static int check_peer(int fd) {
        struct ucred peer = {};
        socklen_t len = sizeof peer;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0)
                return -errno;
        return peer.uid == 0 || peer.uid == geteuid() ? 0 : -EPERM;
}

static int connect_irqbalance(const Host *h, const Daemon *d, int timeout_ms, int *ret_fd) {
        struct timeval tv = { .tv_sec = timeout_ms / 1000 };
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        _cleanup_free_ char *name = xasprintf("irqbalance%d.sock", d->pid);
        struct stat st;
        int r = -ENOENT;

        if (fd < 0)
                return -errno;
        /* connect(2) of a UNIX stream socket waits for a full backlog up to SO_SNDTIMEO */
        if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
                return -errno;

        if (d->dfd >= 0 && fstatat(d->dfd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                if (!S_ISSOCK(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()))
                        return -EPERM; /* not irqbalance's */
                /* The directory as opened below the root, by its fd: never a path outside it. */
                int n = snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", d->dfd, name);
                if (n < 0 || (size_t) n >= sizeof addr.sun_path)
                        return -ENAMETOOLONG;
                r = try_connect(fd, &addr, (socklen_t) sizeof addr);
        } else if (h->real_root) {
                /* 1.2 to 1.4: "\0irqbalance<PID>.sock", its exact length */
                size_t len = strlen(name);
                memset(addr.sun_path, 0, sizeof addr.sun_path);
                memcpy(addr.sun_path + 1, name, len);
                r = try_connect(fd, &addr, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + len));
                if (r == -ENOENT) {
                        /* 1.5 and later without /run/irqbalance: the all-zero name */
                        memset(addr.sun_path, 0, sizeof addr.sun_path);
                        r = try_connect(fd, &addr, (socklen_t) sizeof addr);
                }
        }
        if (r < 0)
                return r;
        r = check_peer(fd);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static long long now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One command in one message with our credentials, as irqbalance requires;
 * the whole answer (until irqbalance closes) when ret_reply is given. */
static int request(const Host *h, const Daemon *d, const char *cmd, int timeout_ms, char **ret_reply) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct ucred cred = { .pid = getpid(), .uid = geteuid(), .gid = getegid() };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(struct ucred))];
        } control = {};
        struct iovec iov = { .iov_base = (void *) cmd, .iov_len = strlen(cmd) };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                              .msg_controllen = sizeof control };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        size_t len = 0, cap = 4096;
        long long deadline;
        ssize_t n;
        int r;

        r = connect_irqbalance(h, d, timeout_ms, &fd);
        if (r < 0)
                return r;
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_CREDENTIALS;
        cm->cmsg_len = CMSG_LEN(sizeof cred);
        memcpy(CMSG_DATA(cm), &cred, sizeof cred);
        do
                n = sendmsg(fd, &msg, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno_timeout(errno);
        if ((size_t) n != iov.iov_len)
                return -EIO;
        if (!ret_reply)
                return 0;

        buf = xmalloc(cap + 1);
        deadline = now_ms() + timeout_ms;
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                long long left = deadline - now_ms();

                if (left <= 0)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int) left);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        return -ETIMEDOUT;
                n = read(fd, buf + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errno == ECONNRESET ? -EBADMSG : -errno;
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len == cap) {
                        if (cap >= MAX_REPLY)
                                return -EFBIG;
                        cap *= 2;
                        buf = xrealloc(buf, cap + 1);
                }
        }
        buf[len] = 0;
        *ret_reply = TAKE_PTR(buf);
        return 0;
}

static int read_setup(const Host *h, const Daemon *d, int timeout_ms, char **ret_list, unsigned *ret_sleep) {
        _cleanup_free_ char *reply = NULL;
        int r = request(h, d, "setup", timeout_ms, &reply);

        if (r < 0)
                return r;
        /* irqbalance closes without a word for a sender it does not trust */
        return irqbalance_parse_setup(reply, ret_list, ret_sleep);
}

int irqbalance_read(const Host *h, char **ret_banned_list, int *ret_pid) {
        Daemon d = { .dfd = -1 };
        int r = locate(h, &d);

        if (r < 0)
                return r;
        r = read_setup(h, &d, READ_TIMEOUT_MS, ret_banned_list, NULL);
        if (r >= 0 && ret_pid)
                *ret_pid = d.pid;
        daemon_done(&d);
        return r;
}

int irqbalance_write(const Host *h, const char *list, char **ret_detail) {
        _cleanup_free_ char *cur = NULL, *cmd = NULL;
        CpuSet want = {};
        unsigned sleep = 0;
        Daemon d = { .dfd = -1 };
        long long deadline;
        int r;

        if (cpuset_parse_list(list, &want) < 0)
                return -EINVAL;
        r = locate(h, &d);
        if (r >= 0)
                r = read_setup(h, &d, CHANGE_TIMEOUT_MS, &cur, &sleep);
        if (r < 0)
                goto out;
        /* An empty list cannot be sent (irqbalance reads it as "not set"):
         * NULL gives the banned CPUs back to irqbalance's configuration. */
        cmd = cpuset_is_empty(&want) ? xstrdup("settings cpus NULL") : xasprintf("settings cpus %s", list);
        r = request(h, &d, cmd, CHANGE_TIMEOUT_MS, NULL);
        if (r < 0)
                goto out;
        /* irqbalance takes the list at its next rescan, one sleep interval at most. */
        deadline = now_ms() + 1000LL * ((sleep ? (sleep < MAX_WAIT_S ? sleep : MAX_WAIT_S) : 10u) + 2u);
        for (;;) {
                CpuSet now = {};
                bool done = cpuset_parse_list(cur, &now) >= 0 && cpuset_equal(&now, &want);
                cpuset_free(&now);
                if (done)
                        break;
                if (now_ms() >= deadline) {
                        *ret_detail = xasprintf("irqbalance (PID %d) was told to ban CPUs '%s' but still bans '%s' "
                                                "after its rescan interval (%u s)", d.pid, list, cur, sleep);
                        r = -ETIMEDOUT;
                        goto out;
                }
                (void) nanosleep(&(struct timespec) { .tv_nsec = POLL_MS * 1000000L }, NULL);
                free(cur);
                cur = NULL;
                r = read_setup(h, &d, CHANGE_TIMEOUT_MS, &cur, NULL);
                if (r < 0)
                        goto out;
        }
out:
        daemon_done(&d);
        cpuset_free(&want);
        return r;
}
