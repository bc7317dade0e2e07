/*
 * The raw /proc floor for `npm run bench`: the least work any tool that finds stale processes must do.
 * For every process: read /proc/PID/maps in full, readlink /proc/PID/exe and every /proc/PID/fd/N.
 * No parsing, no analysis, no output but one summary line on stderr (so the work cannot be optimised away).
 * Compiled by bench/lib/floor.mjs with `gcc -O2` into a temp dir at bench time.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buf[1 << 16];
static char link_target[4096];

static int is_pid(const char *name) {
  if (*name == '\0') return 0;
  for (const char *c = name; *c; c++)
    if (*c < '0' || *c > '9') return 0;
  return 1;
}

static unsigned long long read_all(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  unsigned long long total = 0;
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) total += (unsigned long long)n;
  close(fd);
  return total;
}

int main(void) {
  unsigned long long procs = 0, map_bytes = 0, links = 0, link_bytes = 0;
  char path[512];
  DIR *proc = opendir("/proc");
  if (!proc) {
    perror("/proc");
    return 2;
  }
  struct dirent *de;
  while ((de = readdir(proc)) != NULL) {
    if (!is_pid(de->d_name)) continue;
    procs++;
    snprintf(path, sizeof path, "/proc/%s/maps", de->d_name);
    map_bytes += read_all(path);
    snprintf(path, sizeof path, "/proc/%s/exe", de->d_name);
    ssize_t n = readlink(path, link_target, sizeof link_target);
    if (n > 0) links++, link_bytes += (unsigned long long)n;
    snprintf(path, sizeof path, "/proc/%s/fd", de->d_name);
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) continue;
    DIR *fds = fdopendir(dfd);
    if (!fds) {
      close(dfd);
      continue;
    }
    struct dirent *fe;
    while ((fe = readdir(fds)) != NULL) {
      if (fe->d_name[0] == '.') continue;
      n = readlinkat(dfd, fe->d_name, link_target, sizeof link_target);
      if (n > 0) links++, link_bytes += (unsigned long long)n;
    }
    closedir(fds);
  }
  closedir(proc);
  fprintf(stderr, "floor: %llu processes, %llu bytes of maps, %llu links (%llu bytes)\n", procs, map_bytes, links,
          link_bytes);
  return 0;
}
