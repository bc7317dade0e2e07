/* daemon.c - the workload's long-running process.
 *
 * One source, three binaries: appd (-DTK_APPD: linked to libfoo, libbar, libz),
 * execd and stabled (linked to libbar). -DTK_GEN=<n> makes builds of different
 * generations differ. At start it takes hold of the files it is told to:
 *   --open PATH         keep PATH open read-only (an fd, no mapping)
 *   --mmap PATH         mmap PATH read-only, MAP_PRIVATE, non-exec, then close the fd
 *   --mmap-shared PATH  the same with MAP_SHARED
 *   --dlopen PATH       dlopen() a plugin
 *   --role NAME         ignored (shows the role in /proc/PID/cmdline)
 *   --ready-fd N        once everything is held, write "<pid>\n" to fd N and close it
 * then sleeps in pause() until a signal ends it. A setup error is written to the
 * ready fd as "ERR <message>\n" and the process exits 1.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef TK_GEN
#define TK_GEN 1
#endif
#define TK_STR2(x) #x
#define TK_STR(x) TK_STR2(x)

const char tk_build_id[] = "restartd testkit " TK_STR(TK_APP) " generation " TK_STR(TK_GEN);

extern int bar_version(void);
#ifdef TK_APPD
extern int foo_version(void);
extern const char *zlibVersion(void);
#endif

static int ready_fd = -1;

static void fail(const char *what, const char *path, const char *why) {
    char msg[1024];
    int n = snprintf(msg, sizeof msg, "ERR %s %s: %s\n", what, path, why);
    if (n > (int)sizeof msg - 1) n = (int)sizeof msg - 1;
    if (ready_fd >= 0 && n > 0 && write(ready_fd, msg, (size_t)n) < 0) _exit(2);
    _exit(1);
}

static long map_file(const char *path, int flags) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) fail("mmap-open", path, strerror(errno));
    if (st.st_size == 0) fail("mmap", path, "empty file");
    const char *m = mmap(NULL, (size_t)st.st_size, PROT_READ, flags, fd, 0);
    if (m == MAP_FAILED) fail("mmap", path, strerror(errno));
    close(fd);
    return m[0];
}

int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--ready-fd")) ready_fd = atoi(argv[i + 1]);

    volatile long sink = tk_build_id[0] + bar_version();
#ifdef TK_APPD
    sink += foo_version() + zlibVersion()[0];
#endif
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *opt = argv[i], *arg = argv[i + 1];
        if (!strcmp(opt, "--open")) {
            if (open(arg, O_RDONLY | O_CLOEXEC) < 0) fail("open", arg, strerror(errno));
        } else if (!strcmp(opt, "--mmap")) {
            sink += map_file(arg, MAP_PRIVATE);
        } else if (!strcmp(opt, "--mmap-shared")) {
            sink += map_file(arg, MAP_SHARED);
        } else if (!strcmp(opt, "--dlopen")) {
            void *h = dlopen(arg, RTLD_NOW | RTLD_LOCAL);
            if (!h) fail("dlopen", arg, dlerror());
            int (*fn)(void) = (int (*)(void))dlsym(h, "plugin_version");
            if (!fn) fail("dlsym", arg, "no plugin_version");
            sink += fn();
        } else if (strcmp(opt, "--role") && strcmp(opt, "--ready-fd")) {
            fail("usage", opt, "unknown option");
        }
    }

    if (ready_fd >= 0) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
        if (write(ready_fd, buf, (size_t)n) != n) _exit(1); /* the spawner gave up on us */
        close(ready_fd);
    }
    for (;;) pause();
    return (int)sink;
}
