/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The runtime drop-in revert removes after setting a unit's AllowedCPUs
 * back to empty: only systemd's own reset file, never through a link, never
 * one others can write, and the directories only when that left them empty.
 * On a temporary root (the function works below a root fd). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "systemd.h"

static char tmp[] = "/tmp/cpushield-systemd-XXXXXX";
static int root_fd = -1;

#define HEADER "# This is a drop-in unit file extension, created via \"systemctl set-property\"\n" \
               "# or an equivalent operation. Do not edit.\n"
#define CONTROL "run/systemd/system.control"
#define DROPIN CONTROL "/machine.slice.d/50-AllowedCPUs.conf"

static void setup(void) {
        cr_assert_not_null(mkdtemp(tmp));
        cr_assert_eq(root_open(tmp, &root_fd), 0);
}

static void teardown(void) {
        _cleanup_free_ char *cmd = xasprintf("rm -rf %s", tmp);
        close(root_fd);
        (void) system(cmd);
}

static char *at(const char *rel) {
        return xasprintf("%s/%s", tmp, rel);
}

static void put(const char *rel, const char *content, mode_t mode) {
        _cleanup_free_ char *path = at(rel), *cmd = NULL;
        _cleanup_free_ char *dir = path_parent(path);
        cmd = xasprintf("mkdir -p %s", dir);
        cr_assert_eq(system(cmd), 0);
        FILE *f = fopen(path, "we");
        cr_assert_not_null(f);
        fputs(content, f);
        fclose(f);
        cr_assert_eq(chmod(path, mode), 0);
}

static bool exists(const char *rel) {
        _cleanup_free_ char *path = at(rel);
        struct stat st;
        return lstat(path, &st) == 0;
}

TestSuite(dropin, .init = setup, .fini = teardown);

Test(dropin, a_reset_goes_with_its_now_empty_directories) {
        put(DROPIN, HEADER "[Slice]\nAllowedCPUs=\nAllowedCPUs=\n", 0644);
        cr_assert_eq(systemd_unit_dropin_forget(root_fd, "machine.slice"), 0);
        cr_assert(!exists(DROPIN));
        cr_assert(!exists(CONTROL), "system.control was empty and goes too");
        cr_assert(exists("run/systemd"));
}

Test(dropin, a_list_of_cpus_is_a_setting_and_stays) {
        put(DROPIN, HEADER "[Slice]\nAllowedCPUs=\nAllowedCPUs=0-3\n", 0644);
        cr_assert_eq(systemd_unit_dropin_forget(root_fd, "machine.slice"), 0);
        cr_assert(exists(DROPIN));
}

Test(dropin, another_setting_in_the_file_keeps_it) {
        put(DROPIN, HEADER "[Slice]\nAllowedCPUs=\nCPUWeight=50\n", 0644);
        cr_assert_eq(systemd_unit_dropin_forget(root_fd, "machine.slice"), 0);
        cr_assert(exists(DROPIN));
}

Test(dropin, other_dropins_keep_the_directory) {
        put(DROPIN, HEADER "[Slice]\nAllowedCPUs=\n", 0644);
        put(CONTROL "/machine.slice.d/50-MemoryMax.conf", HEADER "[Slice]\nMemoryMax=1G\n", 0644);
        cr_assert_eq(systemd_unit_dropin_forget(root_fd, "machine.slice"), 0);
        cr_assert(!exists(DROPIN));
        cr_assert(exists(CONTROL "/machine.slice.d/50-MemoryMax.conf"));
}

Test(dropin, a_perpetual_unit_in_transient_and_the_directory_stays) {
        put("run/systemd/transient/init.scope.d/50-AllowedCPUs.conf", HEADER "[Scope]\nAllowedCPUs=\n", 0644);
        cr_assert_eq(systemd_unit_dropin_forget(root_fd, "init.scope"), 0);
        cr_assert(!exists("run/systemd/transient/init.scope.d"));
        cr_assert(exists("run/systemd/transient"), "transient holds other units' files: kept");
}

Test(dropin, a_link_is_not_followed) {
        put("elsewhere/target.conf", HEADER "[Slice]\nAllowedCPUs=\n", 0644);
        put(CONTROL "/machine.slice.d/placeholder", "", 0644);
        _cleanup_free_ char *link = at(DROPIN);
        cr_assert_eq(symlink("../../../../elsewhere/target.conf", link), 0);
        cr_assert_lt(systemd_unit_dropin_forget(root_fd, "machine.slice"), 0);
        cr_assert(exists(DROPIN));
        cr_assert(exists("elsewhere/target.conf"));
}

Test(dropin, a_file_others_can_write_is_not_touched) {
        put(DROPIN, HEADER "[Slice]\nAllowedCPUs=\n", 0666);
        cr_assert_eq(systemd_unit_dropin_forget(root_fd, "machine.slice"), -EPERM);
        cr_assert(exists(DROPIN));
}

Test(dropin, nothing_there_is_nothing_to_do) {
        cr_assert_eq(systemd_unit_dropin_forget(root_fd, "machine.slice"), 0);
        cr_assert(!exists(CONTROL));
}
