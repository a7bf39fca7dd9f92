/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cpushield watch: reconcile when libvirt says a domain started, stopped,
 * crashed or paused, and on a timer (drift repair). Reconnects when
 * libvirtd restarts; tells systemd when it is ready; stops on SIGTERM.
 * When a configured domain starts, its XML is compared with the
 * configuration once, and for WATCH_FAST_S seconds the host is reconciled
 * every WATCH_FAST_EVERY_S seconds: a passed-through device's interrupts
 * appear only when the guest's driver enables them, seconds after the start. */
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "build-config.h"
#include "config.h"
#include "domain-check.h"
#include "options.h"
#include "session.h"

#if HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#if HAVE_LIBVIRT
#include "dlopen-libvirt.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
        (void) sig;
        stop = 1;
}

typedef struct Link {
        char *uri;
        virConnectPtr conn;
        int callback;
        bool lost;
} Link;

#define WATCH_FAST_S 30.0
#define WATCH_FAST_EVERY_S 2.0

typedef struct Started {
        Link *link;
        char *domain;
} Started;

typedef struct Watch {
        Link *links;
        size_t n_links;
        bool pending;
        Started *started; /* domains started since the loop last looked */
        size_t n_started;
} Watch;

static void silent(void *u, virErrorPtr e) {
        (void) u;
        (void) e;
}

static int lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque) {
        Watch *w = opaque;

        for (size_t k = 0; event == VIR_DOMAIN_EVENT_STARTED && k < w->n_links && w->n_started < 64; k++)
                if (w->links[k].conn == conn) {
                        Started *st = array_push(&w->started, &w->n_started, sizeof(Started));
                        st->link = &w->links[k];
                        st->domain = xstrdup(sym_virDomainGetName(dom));
                }
        (void) detail;
        fprintf(stderr, "cpushield: watch: domain %s: %s\n", sym_virDomainGetName(dom),
                event == VIR_DOMAIN_EVENT_STARTED       ? "started"
                : event == VIR_DOMAIN_EVENT_STOPPED     ? "stopped"
                : event == VIR_DOMAIN_EVENT_SUSPENDED   ? "paused"
                : event == VIR_DOMAIN_EVENT_RESUMED     ? "resumed"
                : event == VIR_DOMAIN_EVENT_CRASHED     ? "crashed"
                : event == VIR_DOMAIN_EVENT_SHUTDOWN    ? "shutting down"
                                                        : "changed");
        w->pending = true;
        return 0;
}

static void closed(virConnectPtr conn, int reason, void *opaque) {
        Link *l = opaque;

        (void) conn;
        (void) reason;
        l->lost = true;
}

static void tick(int timer, void *opaque) {
        (void) timer;
        (void) opaque;
}

static void link_drop(Link *l) {
        if (!l->conn)
                return;
        if (l->callback >= 0)
                sym_virConnectDomainEventDeregisterAny(l->conn, l->callback);
        sym_virConnectUnregisterCloseCallback(l->conn, closed);
        sym_virConnectClose(l->conn);
        l->conn = NULL;
        l->callback = -1;
}

static bool link_up(Watch *w, Link *l) {
        l->conn = sym_virConnectOpen(l->uri);
        if (!l->conn)
                return false;
        l->lost = false;
        l->callback = sym_virConnectDomainEventRegisterAny(l->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                       VIR_DOMAIN_EVENT_CALLBACK(lifecycle), w, NULL);
        sym_virConnectRegisterCloseCallback(l->conn, closed, l, NULL);
        (void) sym_virConnectSetKeepAlive(l->conn, 5, 3);
        if (l->callback < 0) {
                link_drop(l);
                return false;
        }
        fprintf(stderr, "cpushield: watch: listening to %s\n", l->uri);
        return true;
}

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Which daemons to listen to: the URIs of the libvirt VMs. */
static void watch_links(const Config *c, Watch *w) {
        for (size_t i = 0; i < c->n_vms; i++) {
                bool seen = false;
                if (c->vms[i].activation != ACTIVATION_LIBVIRT)
                        continue;
                for (size_t k = 0; k < w->n_links; k++)
                        seen |= streq(w->links[k].uri, c->vms[i].uri);
                if (!seen) {
                        Link *l = array_push(&w->links, &w->n_links, sizeof(Link));
                        l->uri = xstrdup(c->vms[i].uri);
                        l->callback = -1;
                }
        }
}

/* (Re)connects lost links once a second. */
static void watch_connect(Watch *w) {
        for (size_t k = 0; k < w->n_links; k++) {
                Link *l = &w->links[k];
                if (l->conn && (l->lost || sym_virConnectIsAlive(l->conn) != 1)) {
                        fprintf(stderr, "cpushield: watch: lost %s, reconnecting\n", l->uri);
                        link_drop(l);
                }
                if (!l->conn && link_up(w, l))
                        w->pending = true; /* what happened meanwhile is unknown */
        }
}

/* A configured domain that started: its XML against the configuration, once
 * (libvirt is asked from the loop, not from inside its event callback). */
static void check_started(const Options *o, const Started *st) {
        _cleanup_session_ Session s = SESSION_NULL;
        const Vm *vm = NULL;

        if (!st->link->conn || session_open(&s, o, SESSION_NEED_CONFIG) < 0)
                return;
        for (size_t i = 0; i < s.cfg.n_vms; i++)
                if (s.cfg.vms[i].activation == ACTIVATION_LIBVIRT && streq(s.cfg.vms[i].uri, st->link->uri) &&
                    streq(s.cfg.vms[i].domain, st->domain))
                        vm = &s.cfg.vms[i];
        virDomainPtr dom = vm ? sym_virDomainLookupByName(st->link->conn, st->domain) : NULL;
        if (!dom)
                return;
        char *xml = sym_virDomainGetXMLDesc(dom, 0);
        sym_virDomainFree(dom);
        if (!xml)
                return;
        _cleanup_free_ char *who = xasprintf("watch: domain %s", st->domain);
        domain_check(who, vm, xml, strlen(xml), NULL);
        free(xml);
}

int watch_run(const Options *o, int (*reconcile_once)(const Options *)) {
        _cleanup_session_ Session s = SESSION_NULL;
        Watch w = {};
        double next_run = 0, next_connect = 0;

        if (session_open(&s, o, SESSION_NEED_CONFIG) < 0)
                return 1;
        watch_links(&s.cfg, &w);
        session_close(&s);

        _cleanup_free_ char *lerr = NULL;
        if (dlopen_libvirt(&lerr) < 0) {
                fprintf(stderr, "cpushield: watch: %s\n", lerr);
                return 1;
        }
        sym_virSetErrorFunc(NULL, silent);
        if (sym_virEventRegisterDefaultImpl() < 0) {
                fprintf(stderr, "cpushield: watch: cannot set up libvirt's event loop\n");
                return 1;
        }
        struct sigaction sa = { .sa_handler = on_signal };
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        /* Wakes the loop four times a second to look at the clock and the
         * stop flag (libvirt's poll loop retries on EINTR). */
        sym_virEventAddTimeout(250, tick, NULL, NULL);

        bool ready = false;
        double fast_until = 0;
        while (!stop) {
                double t = now_s();

                for (size_t k = 0; k < w.n_started; k++) {
                        check_started(o, &w.started[k]);
                        free(w.started[k].domain);
                        fast_until = t + WATCH_FAST_S;
                }
                w.n_started = 0;

                if (t >= next_connect) {
                        watch_connect(&w);
                        next_connect = t + 1;
                }
                if (w.pending || t >= next_run) {
                        w.pending = false;
                        (void) reconcile_once(o);
                        fflush(stdout);
                        next_run = now_s() + (t < fast_until && WATCH_FAST_EVERY_S < o->interval_s
                                                              ? WATCH_FAST_EVERY_S : o->interval_s);
                        if (!ready) {
#if HAVE_SYSTEMD
                                (void) sd_notify(0, "READY=1\nSTATUS=watching libvirt");
#endif
                                fprintf(stderr, "cpushield: watch: ready\n");
                                ready = true;
                        }
                }
                if (sym_virEventRunDefaultImpl() < 0)
                        break;
        }
#if HAVE_SYSTEMD
        (void) sd_notify(0, "STOPPING=1");
#endif
        for (size_t k = 0; k < w.n_links; k++) {
                link_drop(&w.links[k]);
                free(w.links[k].uri);
        }
        free(w.links);
        for (size_t k = 0; k < w.n_started; k++)
                free(w.started[k].domain);
        free(w.started);
        fprintf(stderr, "cpushield: watch: stopped\n");
        return 0;
}
#else
int watch_run(const Options *o, int (*reconcile_once)(const Options *)) {
        (void) o;
        (void) reconcile_once;
        fprintf(stderr, "cpushield: watch needs libvirt support, which this build lacks\n");
        return 1;
}
#endif
