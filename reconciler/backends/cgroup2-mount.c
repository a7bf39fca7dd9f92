/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cgroup2 hierarchy's root on a cgroup v1 host that mounts no cgroup2.
 *
 * The kernel switches the host-wide pressure stall group (its averaging
 * work, every 2 s on the CPU it last ran on) only through the root's
 * cgroup.pressure, a cgroup2 file. The hierarchy exists whether or not it
 * is mounted, so cpushield mounts it where nobody else can see it: a
 * detached mount (fsmount(2), Linux 5.2+) that belongs to no mount
 * namespace and is gone when the run's last descriptor of it closes.
 *
 * Mounting cgroup2 also applies the mount's options (nsdelegate,
 * memory_recursiveprot, ...) to the whole hierarchy, clearing those not
 * given, when the mounter is in the initial cgroup namespace: a container
 * that mounted cgroup2 with nsdelegate in its own mount namespace would lose
 * it. So a child makes the mount from a cgroup namespace of its own (rooted
 * where the run is, the hierarchy's root: nothing is ever below it while
 * no cgroup2 is mounted) and hands the descriptor back; the kernel leaves
 * the options alone then. The files are opened by the run, in the initial
 * cgroup namespace, as on any other mount. What stays is what any mount of
 * cgroup2 leaves: /proc/PID/cgroup lists the hierarchy ("0::/") from then
 * on, as on a hybrid host. */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup2-mount.h"
#include "fs.h"
#include "util.h"

/* The run's own place in the hierarchy, from /proc/self/cgroup: none
 * listed (never mounted since boot) or "0::/" is the root. */
static bool run_in_root(int root_fd) {
        _cleanup_free_ char *s = NULL;

        if (read_attr(root_fd, "/proc/self/cgroup", &s) < 0)
                return false;
        for (char *line = s; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                if (startswith(line, "0::"))
                        return streq(line, "0::/");
                line = nl ? nl + 1 : NULL;
        }
        return true;
}

/* In the child: only system calls (the run may have threads). */
static int child_mount(int sock) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } ctl = {};
        char byte = 0;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
        int fs, mnt;

        if (unshare(CLONE_NEWCGROUP) < 0)
                return errno;
        fs = (int) syscall(SYS_fsopen, "cgroup2", FSOPEN_CLOEXEC);
        if (fs < 0)
                return errno;
        if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return errno;
        mnt = (int) syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
                            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        if (mnt < 0)
                return errno;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &mnt, sizeof(int));
        return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : errno;
}

static int make_mount(void) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } ctl = {};
        char byte;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
        int sv[2], status = 0, fd = -ENOENT;
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(sv[0]);
                close(sv[1]);
                return r;
        }
        if (pid == 0) {
                close(sv[0]);
                _exit(child_mount(sv[1]) & 0xff);
        }
        close(sv[1]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && recvmsg(sv[0], &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) == 1) {
                struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
                        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
                fd = -WEXITSTATUS(status);
        else
                fd = -ECHILD;
        close(sv[0]);
        return fd;
}

int cgroup2_root_open(int root_fd) {
        static int mnt = -1, err = 0;
        int fd;

        if (mnt < 0 && err == 0) {
                if (!run_in_root(root_fd))
                        err = -ENOENT; /* the mount's root would not be the hierarchy's */
                else {
                        int r = make_mount();
                        if (r < 0)
                                err = r;
                        else
                                mnt = r;
                }
        }
        if (mnt < 0)
                return err == -ENOSYS ? -ENOENT : err; /* before 5.2: no switch either (6.1+) */
        fd = fcntl(mnt, F_DUPFD_CLOEXEC, 3);
        return fd < 0 ? -errno : fd;
}
