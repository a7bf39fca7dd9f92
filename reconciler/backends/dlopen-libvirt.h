/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "build-config.h"

#if HAVE_LIBVIRT
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

/* libvirt is loaded with dlopen only when a run consults it (a configured
 * VM with activation: libvirt, live pins, the watcher), as systemd loads its
 * optional libraries: the hook, the timer's apply and plain runs do not
 * pay for its ~60 shared libraries. Call through sym_NAME after
 * dlopen_libvirt() returned 0. */
#define LIBVIRT_SYMBOLS(X)                                                                                   \
        X(virConnectClose) X(virConnectDomainEventDeregisterAny) X(virConnectDomainEventRegisterAny)       \
        X(virConnectIsAlive) X(virConnectOpen) X(virConnectOpenReadOnly) X(virConnectRegisterCloseCallback) \
        X(virConnectSetKeepAlive) X(virConnectUnregisterCloseCallback) X(virDomainFree)                    \
        X(virDomainGetEmulatorPinInfo) X(virDomainGetIOThreadInfo) X(virDomainGetInfo) X(virDomainGetName) \
        X(virDomainGetVcpuPinInfo) X(virDomainGetXMLDesc) X(virDomainIOThreadInfoFree) X(virDomainIsActive)                       \
        X(virDomainLookupByName) X(virDomainPinEmulator) X(virDomainPinIOThread) X(virDomainPinVcpuFlags)   \
        X(virEventAddTimeout) X(virEventRegisterDefaultImpl) X(virEventRunDefaultImpl) X(virGetLastError)  \
        X(virNodeGetCPUMap) X(virSetErrorFunc)

#define LIBVIRT_DECLARE(name) extern __typeof__(name) *sym_##name;
LIBVIRT_SYMBOLS(LIBVIRT_DECLARE)
#undef LIBVIRT_DECLARE
#endif

/* 0 once libvirt.so.0 and every symbol are there; -EOPNOTSUPP with
 * *ret_error (may be NULL) otherwise. Loads at most once per process. */
int dlopen_libvirt(char **ret_error);
