/* spawn.c - start the workload's daemons and report their PIDs.
 *
 * usage: tk-spawn tree|flat LOGFILE < SPEC
 *   SPEC: one daemon per line, EXECUTABLE<TAB>ARG<TAB>ARG...; "--ready-fd 3" is appended.
 *
 * The process started by the caller only relays: it forks a launcher that leaves the
 * caller's session (setsid), closes every inherited descriptor, and starts the daemons
 * (up to WINDOW at a time, each one waited for until it reports ready). Reports go back
 * through a pipe and are copied to stdout:
 *   D <index> <pid> <starttime>      a daemon is ready (starttime: /proc/PID/stat field 22)
 *   OK <pid> <starttime>             all ready; the supervisor (tree), or "OK 0 0" (flat)
 *   ERR <message>                    failure; every daemon already started has been killed
 * Exit status 0 iff the last line is OK. The caller's pipes reach EOF when this exits.
 *
 * tree: the launcher stays as the supervisor, the parent of every daemon, and exits once
 *       they are all gone. flat: each daemon is double-forked into its own session, so its
 *       parent becomes PID 1 (or the nearest subreaper), and the launcher exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define WINDOW 64
#define READY_TIMEOUT_MS 30000
#define REPORT_FD 3 /* the launcher's report pipe; also the daemons' ready fd */

struct slot { int fd, index; pid_t child; size_t got; char buf[256]; };

static int flat;
static char ***cmds;           /* argv of each daemon */
static int ncmds;
static pid_t *started;         /* pids to kill on failure */
static int nstarted;

static unsigned long long starttime_of(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 22; field++) p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

static void report(const char *fmt, ...) {
    char buf[1200];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 1) n = (int)sizeof buf - 1;
    if (n > 0 && write(REPORT_FD, buf, (size_t)n) < 0) { /* caller gone: keep going */ }
}

static void give_up(const char *fmt, const char *a, int index) {
    for (int i = 0; i < nstarted; i++) kill(started[i], SIGKILL);
    while (!flat && waitpid(-1, NULL, 0) > 0) {}
    char msg[800];
    snprintf(msg, sizeof msg, fmt, a, index);
    for (char *p = msg; *p; p++) if (*p == '\n') *p = ' ';
    for (size_t n = strlen(msg); n > 0 && msg[n - 1] == ' '; n--) msg[n - 1] = 0;
    report("ERR %s\n", msg);
    _exit(1);
}

static char *read_all(int fd) {
    size_t cap = 1 << 16, len = 0;
    char *s = malloc(cap);
    for (;;) {
        if (len + 4096 > cap) s = realloc(s, cap *= 2);
        ssize_t n = read(fd, s + len, cap - len - 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
    }
    s[len] = 0;
    return s;
}

static void parse_spec(char *spec) {
    int cap = 1024;
    cmds = malloc(sizeof *cmds * (size_t)cap);
    for (char *line = strtok(spec, "\n"); line; line = strtok(NULL, "\n")) {
        int nf = 3; /* fields + "--ready-fd 3" + NULL */
        for (char *p = line; *p; p++) nf += *p == '\t';
        char **av = malloc(sizeof *av * (size_t)(nf + 1));
        int k = 0;
        for (char *f = line, *tab; f; f = tab ? tab + 1 : NULL) {
            tab = strchr(f, '\t');
            if (tab) *tab = 0;
            av[k++] = f;
        }
        av[k++] = "--ready-fd";
        av[k++] = "3";
        av[k] = NULL;
        if (ncmds == cap) cmds = realloc(cmds, sizeof *cmds * (size_t)(cap *= 2));
        cmds[ncmds++] = av;
    }
    started = malloc(sizeof *started * (size_t)(ncmds + 1));
}

static void detach(const char *logfile) {
    setsid();
    if (chdir("/") < 0) {}
    signal(SIGPIPE, SIG_IGN);
    int null = open("/dev/null", O_RDWR);
    int log = open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (null < 0 || log < 0) give_up("cannot open /dev/null or the log %s", logfile, 0);
    dup2(null, 0);
    dup2(null, 1);
    dup2(log, 2);
    /* everything else the caller left us goes: only the report pipe (fd 3) stays */
    if (syscall(SYS_close_range, 4U, ~0U, 0U) < 0)
        for (long fd = 4, max = sysconf(_SC_OPEN_MAX); fd < max; fd++) close((int)fd);
}

static void launch(struct slot *s, int index) {
    int rp[2], sp[2] = {-1, -1}; /* ready pipe; flat: the middle process reports the daemon's pid on sp */
    if (pipe2(rp, O_CLOEXEC) < 0 || (flat && pipe2(sp, O_CLOEXEC) < 0))
        give_up("pipe: %s (#%d)", strerror(errno), index);
    pid_t c = fork();
    if (c < 0) give_up("fork: %s (#%d)", strerror(errno), index);
    if (c == 0) {
        signal(SIGPIPE, SIG_DFL);
        if (flat) {
            setsid();
            pid_t g = fork();
            if (g < 0) _exit(127);
            if (g > 0) _exit(dprintf(sp[1], "%d\n", (int)g) > 0 ? 0 : 127);
        }
        if (dup2(rp[1], REPORT_FD) < 0) _exit(127); /* dup2 clears close-on-exec */
        execv(cmds[index][0], cmds[index]);
        dprintf(REPORT_FD, "ERR exec %s: %s\n", cmds[index][0], strerror(errno));
        _exit(127);
    }
    close(rp[1]);
    if (flat) {
        /* the middle process reports the daemon's pid and exits: from now on we can kill it */
        close(sp[1]);
        waitpid(c, NULL, 0);
        char line[32];
        ssize_t n = read(sp[0], line, sizeof line - 1);
        close(sp[0]);
        line[n > 0 ? n : 0] = 0;
        c = (pid_t)atoi(line);
        if (c <= 0) give_up("could not fork %s (#%d)", cmds[index][0], index);
    }
    started[nstarted++] = c;
    *s = (struct slot){.fd = rp[0], .index = index, .child = c};
}

/* returns 1 when the slot is finished */
static int on_readable(struct slot *s) {
    ssize_t n = read(s->fd, s->buf + s->got, sizeof s->buf - 1 - s->got);
    if (n < 0 && errno == EINTR) return 0;
    if (n > 0) s->got += (size_t)n;
    s->buf[s->got] = 0;
    char *nl = strchr(s->buf, '\n');
    if (!nl && n > 0 && s->got < sizeof s->buf - 1) return 0;
    if (!strncmp(s->buf, "ERR", 3)) give_up("daemon #%2$d: %1$s", s->buf + 4, s->index);
    pid_t pid = (pid_t)atoi(s->buf);
    if (!nl || pid <= 0) give_up("daemon #%2$d (%1$s) exited before it was ready", cmds[s->index][0], s->index);
    if (pid != s->child) give_up("daemon #%2$d (%1$s) reported a pid that is not its own", cmds[s->index][0], s->index);
    report("D %d %d %llu\n", s->index, (int)pid, starttime_of(pid));
    close(s->fd);
    return 1;
}

static void run_launcher(const char *logfile) {
    detach(logfile);
    struct slot slots[WINDOW];
    struct pollfd pfds[WINDOW];
    int active = 0, next = 0;
    while (next < ncmds || active > 0) {
        while (active < WINDOW && next < ncmds) launch(&slots[active++], next++);
        for (int i = 0; i < active; i++) pfds[i] = (struct pollfd){.fd = slots[i].fd, .events = POLLIN};
        int pr = poll(pfds, (nfds_t)active, READY_TIMEOUT_MS);
        if (pr < 0 && errno == EINTR) continue;
        if (pr < 0) give_up("poll: %s (#%d)", strerror(errno), next);
        if (pr == 0) give_up("timed out waiting for %s (#%d) to be ready", cmds[slots[0].index][0], slots[0].index);
        for (int i = active - 1; i >= 0; i--) {
            if (!pfds[i].revents) continue;
            if (on_readable(&slots[i])) slots[i] = slots[--active];
        }
    }
    if (flat) {
        report("OK 0 0\n");
        _exit(0);
    }
    report("OK %d %llu\n", (int)getpid(), starttime_of(getpid()));
    close(REPORT_FD);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
    _exit(0);
}

int main(int argc, char **argv) {
    if (argc != 3 || (strcmp(argv[1], "tree") && strcmp(argv[1], "flat"))) {
        fprintf(stderr, "usage: tk-spawn tree|flat LOGFILE < SPEC\n");
        return 2;
    }
    flat = !strcmp(argv[1], "flat");
    parse_spec(read_all(0));

    int rp[2];
    if (pipe2(rp, O_CLOEXEC) < 0) { perror("tk-spawn: pipe"); return 1; }
    pid_t launcher = fork();
    if (launcher < 0) { perror("tk-spawn: fork"); return 1; }
    if (launcher == 0) {
        if (rp[1] != REPORT_FD) {
            if (dup3(rp[1], REPORT_FD, O_CLOEXEC) < 0) _exit(1);
            close(rp[1]);
        }
        if (rp[0] != REPORT_FD) close(rp[0]);
        run_launcher(argv[2]);
    }
    close(rp[1]);
    /* relay the launcher's reports; remember whether the last line was OK */
    char buf[8192], last[8] = "";
    int at_line_start = 1, llen = 0;
    for (;;) {
        ssize_t n = read(rp[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) return 1;
        for (ssize_t i = 0; i < n; i++) {
            if (at_line_start) { llen = 0; at_line_start = 0; }
            if (buf[i] == '\n') at_line_start = 1;
            else if (llen < 7) { last[llen++] = buf[i]; last[llen] = 0; }
        }
    }
    if (flat) waitpid(launcher, NULL, 0);
    if (fflush(stdout) != 0) return 1;
    return strncmp(last, "OK", 2) == 0 ? 0 : 1;
}
