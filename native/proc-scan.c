// The hot loop of restartd's process scan, as an optional N-API addon (see src/scan/native-scan.ts).
//
// readBatch(procRoot, pids, maxHeldFiles) reads, per PID: stat, the exe link, the root's identity,
// maps (into one reused buffer, reduced to one line per mapped file) and the fds (readdir in
// strcmp order as libuv gives it, readlink, stat of the regular files). It judges nothing: the
// bytes go back to the TypeScript scan, which parses them with the same code as its own reads, so
// both paths give the same images. Returns [bytes: Buffer, meta: Float64Array] (layout below).
// readOwner(procRoot, pid) reads a stale process's status and cgroup the same way.
#define NAPI_VERSION 8
#include <node_api.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// Stages: which read failed (0: none). The TypeScript side names them as its own reads do.
enum { FAIL_NONE = 0, FAIL_STAT = 1, FAIL_EXE = 2, FAIL_MAPS = 3, FAIL_FD = 4 };
// Per PID: a fixed header, then FD_FIELDS numbers per fd kept.
enum { H_PID, H_FAIL, H_ERRNO, H_STAT_OFF, H_STAT_LEN, H_CONT, H_EXE_OFF, H_EXE_LEN, H_ROOT_OK, H_ROOT_DEV, H_ROOT_INO, H_MAPS_OFF, H_MAPS_LEN, H_MAPS_COUNT, H_FD_OVERFLOW, H_FD_COUNT, H_NS_OFF, H_NS_LEN, HEADER };
enum { F_NUM, F_OFF, F_LEN, F_STAT_OK, F_DEV, F_INO, F_SIZE, FD_FIELDS };

typedef struct {
  char *data;
  size_t len, cap;
} bytes_t;

typedef struct {
  double *data;
  size_t len, cap;
} nums_t;

static int grow(void **data, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return 0;
  size_t next = *cap ? *cap : 4096;
  while (next < need) next *= 2;
  void *p = realloc(*data, next * size);
  if (!p) return -1;
  *data = p;
  *cap = next;
  return 0;
}

static int put_bytes(bytes_t *b, const char *src, size_t n) {
  if (grow((void **)&b->data, &b->cap, b->len + n, 1)) return -1;
  memcpy(b->data + b->len, src, n);
  b->len += n;
  return 0;
}

static int put_num(nums_t *m, double x) {
  if (grow((void **)&m->data, &m->cap, m->len + 1, sizeof(double))) return -1;
  m->data[m->len++] = x;
  return 0;
}

// Reused across calls on one thread (a scan worker has its own).
static __thread char *file_buf;
static __thread size_t file_cap;

// Reads a whole file relative to dirfd into file_buf; returns its length or -errno.
static ssize_t read_all(int dirfd, const char *name) {
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  size_t len = 0;
  for (;;) {
    if (grow((void **)&file_buf, &file_cap, len + 65536, 1)) {
      close(fd);
      return -ENOMEM;
    }
    ssize_t n = read(fd, file_buf + len, file_cap - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      return -e;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  close(fd);
  return (ssize_t)len;
}

// Whether the process is read past its stat: not a kernel thread (PF_KTHREAD), not a zombie.
// Mirrors parseStat's field split; when unsure it says yes and the TypeScript side decides.
static int read_past_stat(const char *s, size_t len) {
  const char *close_paren = NULL;
  for (size_t i = 0; i < len; i++)
    if (s[i] == ')') close_paren = s + i;
  if (!close_paren || close_paren + 2 >= s + len) return 1;
  const char *p = close_paren + 2, *end = s + len;
  // The state field is exactly "Z" for a zombie.
  int zombie = p[0] == 'Z' && (p + 1 == end || p[1] == ' ');
  for (int n = 0; n < 6; n++) {
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    if (!sp) return 1;
    p = sp + 1;
  }
  unsigned long long flags = 0;
  int digits = 0;
  while (p < end && *p >= '0' && *p <= '9') flags = flags * 10 + (unsigned)(*p++ - '0'), digits++;
  if (!digits || (p < end && *p != ' ')) return 1;
  if (flags & 0x00200000ULL) return 0;
  return !zombie;
}

typedef struct {
  size_t line, line_end;
  size_t perms, perms_end;  // the perms to print (the first line's, or the first later executable one's)
  size_t dev, dev_end;
  uint64_t ino;
  int has_x;
  int raw;  // passed on as it is
} map_file_t;

static __thread map_file_t *files;
static __thread size_t files_cap;
static __thread int32_t *slots;
static __thread size_t slots_cap;

static int has_x(const char *b, size_t from, size_t to) {
  for (size_t i = from; i < to; i++)
    if (b[i] == 'x') return 1;
  return 0;
}

static long next_space(const char *b, size_t from, size_t end) {
  for (size_t i = from; i < end; i++)
    if (b[i] == ' ') return (long)i;
  return -1;
}

static uint64_t hash_file(const char *b, size_t dev, size_t dev_end, uint64_t ino) {
  uint64_t h = ino * 0x9E3779B97F4A7C15ULL;
  for (size_t i = dev; i < dev_end; i++) h = (h ^ (unsigned char)b[i]) * 0x100000001B3ULL;
  return h;
}

// maps (in file_buf[0..len)) reduced to one line per mapped file, appended to out: what
// mappedFilesOf keeps, in its order. A line whose inode column is not plain digits is passed on
// as it is (the TypeScript parser decides about it). Returns the number of lines written, or -1.
static long reduce_maps(size_t len, bytes_t *out) {
  const char *b = file_buf;
  size_t nfiles = 0;
  size_t nslots = 0;
  long count = 0;
  size_t start = 0;
  // Open addressing over the files seen, sized on demand.
  size_t want_slots = 64;
  if (grow((void **)&slots, &slots_cap, want_slots, sizeof(int32_t))) return -1;
  nslots = want_slots;
  memset(slots, -1, nslots * sizeof(int32_t));
  while (start < len) {
    const char *nl = memchr(b + start, '\n', len - start);
    size_t end = nl ? (size_t)(nl - b) : len;
    size_t line = start;
    start = end + 1;
    long s1 = next_space(b, line, end);
    if (s1 < 0) continue;
    long s2 = next_space(b, (size_t)s1 + 1, end);
    if (s2 < 0) continue;
    long s3 = next_space(b, (size_t)s2 + 1, end);
    if (s3 < 0) continue;
    long s4 = next_space(b, (size_t)s3 + 1, end);
    if (s4 < 0) continue;
    long s5 = next_space(b, (size_t)s4 + 1, end);
    if (s5 < 0) continue;
    size_t name = (size_t)s5 + 1;
    while (name < end && b[name] == ' ') name++;
    if (name >= end || b[name] != '/') continue;
    size_t ino_from = (size_t)s4 + 1, ino_to = (size_t)s5;
    int plain = ino_to - ino_from <= 15 && ino_to > ino_from;
    uint64_t ino = 0;
    for (size_t i = ino_from; plain && i < ino_to; i++) {
      if (b[i] < '0' || b[i] > '9') plain = 0;
      else ino = ino * 10 + (uint64_t)(b[i] - '0');
    }
    if (!plain) {
      if (grow((void **)&files, &files_cap, nfiles + 1, sizeof(map_file_t))) return -1;
      files[nfiles++] = (map_file_t){.line = line, .line_end = end, .raw = 1};
      continue;
    }
    if (ino == 0) continue;
    size_t dev = (size_t)s3 + 1, dev_end = (size_t)s4;
    uint64_t h = hash_file(b, dev, dev_end, ino);
    size_t slot = (size_t)(h & (nslots - 1));
    int32_t found = -1;
    while (slots[slot] >= 0) {
      map_file_t *f = &files[slots[slot]];
      if (f->ino == ino && f->dev_end - f->dev == dev_end - dev && memcmp(b + f->dev, b + dev, dev_end - dev) == 0) {
        found = slots[slot];
        break;
      }
      slot = (slot + 1) & (nslots - 1);
    }
    if (found >= 0) {
      map_file_t *f = &files[found];
      if (!f->has_x && has_x(b, (size_t)s1 + 1, (size_t)s2)) {
        f->perms = (size_t)s1 + 1;
        f->perms_end = (size_t)s2;
        f->has_x = 1;
      }
      continue;
    }
    if (grow((void **)&files, &files_cap, nfiles + 1, sizeof(map_file_t))) return -1;
    map_file_t *f = &files[nfiles];
    f->line = line;
    f->line_end = end;
    f->perms = (size_t)s1 + 1;
    f->perms_end = (size_t)s2;
    f->dev = dev;
    f->dev_end = dev_end;
    f->ino = ino;
    f->has_x = has_x(b, f->perms, f->perms_end);
    f->raw = 0;
    slots[slot] = (int32_t)nfiles;
    nfiles++;
    // Keep the table at most half full.
    if (nfiles * 2 > nslots) {
      size_t bigger = nslots * 2;
      if (grow((void **)&slots, &slots_cap, bigger, sizeof(int32_t))) return -1;
      nslots = bigger;
      memset(slots, -1, nslots * sizeof(int32_t));
      for (size_t i = 0; i < nfiles; i++) {
        if (files[i].raw) continue;
        size_t s = (size_t)(hash_file(b, files[i].dev, files[i].dev_end, files[i].ino) & (nslots - 1));
        while (slots[s] >= 0) s = (s + 1) & (nslots - 1);
        slots[s] = (int32_t)i;
      }
    }
  }
  // Written in the order first seen: range, the perms to print, then the rest of the first line.
  for (size_t i = 0; i < nfiles; i++) {
    map_file_t *f = &files[i];
    if (f->raw) {
      if (put_bytes(out, b + f->line, f->line_end - f->line) || put_bytes(out, "\n", 1)) return -1;
      count++;
      continue;
    }
    long s1 = next_space(b, f->line, f->line_end);
    long s2 = next_space(b, (size_t)s1 + 1, f->line_end);
    if (put_bytes(out, b + f->line, (size_t)s1 + 1 - f->line) || put_bytes(out, b + f->perms, f->perms_end - f->perms) ||
        put_bytes(out, b + s2, f->line_end - (size_t)s2) || put_bytes(out, "\n", 1))
      return -1;
    count++;
  }
  return count;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_pseudo(const char *t) {
  return strncmp(t, "/dev/", 5) == 0 || strncmp(t, "/proc/", 6) == 0 || strncmp(t, "/sys/", 5) == 0;
}

// The fds of the process in pid_fd (the /proc/PID dir); appends FD_FIELDS numbers per fd kept.
static int read_fds(int pid_fd, double room, nums_t *meta, bytes_t *out, double *overflow, double *kept, int *err) {
  int dir_fd = openat(pid_fd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    *err = errno;
    return -1;
  }
  DIR *dir = fdopendir(dir_fd);
  if (!dir) {
    *err = errno;
    close(dir_fd);
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *d;
  int failed = 0;
  errno = 0;
  while ((d = readdir(dir)) != NULL) {
    if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
    if (grow((void **)&names, &cap, n + 1, sizeof(char *))) {
      failed = ENOMEM;
      break;
    }
    names[n] = strdup(d->d_name);
    if (!names[n]) {
      failed = ENOMEM;
      break;
    }
    n++;
  }
  if (!failed && errno != 0) failed = errno;
  if (failed) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    closedir(dir);
    *err = failed;
    return -1;
  }
  // libuv's scandir (readdirSync) sorts with strcmp: the same order, so the same fds past the cap.
  qsort(names, n, sizeof(char *), cmp_names);
  char target[8192];
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    ssize_t tl = readlinkat(dir_fd, names[i], target, sizeof target - 1);
    if (tl <= 0 || target[0] != '/') continue;
    target[tl] = 0;
    if (is_pseudo(target)) continue;
    if (room <= 0) {
      *overflow += 1;
      continue;
    }
    struct stat st;
    int ok = fstatat(dir_fd, names[i], &st, 0) == 0;
    if (ok && !S_ISREG(st.st_mode)) continue;
    double off = (double)out->len;
    if (put_bytes(out, target, (size_t)tl) || put_num(meta, strtod(names[i], NULL)) || put_num(meta, off) || put_num(meta, (double)tl) ||
        put_num(meta, ok) || put_num(meta, ok ? (double)st.st_dev : 0) || put_num(meta, ok ? (double)st.st_ino : 0) ||
        put_num(meta, ok ? (double)st.st_size : 0))
      rc = -2;
    room -= 1;
    *kept += 1;
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  closedir(dir);
  return rc;
}

// One PID: the header and its fds appended to meta, its bytes to out. -1 only when out of memory.
static int read_one(int root_fd, int32_t pid, double max_held, nums_t *meta, bytes_t *out) {
  size_t h = meta->len;
  for (int i = 0; i < HEADER; i++)
    if (put_num(meta, 0)) return -1;
  meta->data[h + H_PID] = pid;
  char name[16];
  snprintf(name, sizeof name, "%d", pid);
  int pid_fd = openat(root_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pid_fd < 0) {
    meta->data[h + H_FAIL] = FAIL_STAT;
    meta->data[h + H_ERRNO] = errno;
    return 0;
  }
  ssize_t n = read_all(pid_fd, "stat");
  if (n < 0) {
    meta->data[h + H_FAIL] = FAIL_STAT;
    meta->data[h + H_ERRNO] = (double)-n;
    close(pid_fd);
    return 0;
  }
  meta->data[h + H_STAT_OFF] = (double)out->len;
  meta->data[h + H_STAT_LEN] = (double)n;
  if (put_bytes(out, file_buf, (size_t)n)) return -1;
  if (!read_past_stat(file_buf, (size_t)n)) {
    close(pid_fd);
    return 0;
  }
  meta->data[h + H_CONT] = 1;
  char link[8192];
  ssize_t l = readlinkat(pid_fd, "exe", link, sizeof link);
  if (l < 0) {
    meta->data[h + H_FAIL] = FAIL_EXE;
    meta->data[h + H_ERRNO] = errno;
    close(pid_fd);
    return 0;
  }
  meta->data[h + H_EXE_OFF] = (double)out->len;
  meta->data[h + H_EXE_LEN] = (double)l;
  if (put_bytes(out, link, (size_t)l)) return -1;
  struct stat st;
  if (fstatat(pid_fd, "root", &st, 0) == 0) {
    meta->data[h + H_ROOT_OK] = 1;
    meta->data[h + H_ROOT_DEV] = (double)st.st_dev;
    meta->data[h + H_ROOT_INO] = (double)st.st_ino;
  }
  // The mount namespace, which judging the process's paths needs (-1: unreadable).
  ssize_t ns = readlinkat(pid_fd, "ns/mnt", link, sizeof link);
  meta->data[h + H_NS_OFF] = (double)out->len;
  meta->data[h + H_NS_LEN] = (double)(ns < 0 ? -1 : ns);
  if (ns > 0 && put_bytes(out, link, (size_t)ns)) return -1;
  n = read_all(pid_fd, "maps");
  if (n < 0) {
    meta->data[h + H_FAIL] = FAIL_MAPS;
    meta->data[h + H_ERRNO] = (double)-n;
    close(pid_fd);
    return 0;
  }
  size_t maps_off = out->len;
  long count = reduce_maps((size_t)n, out);
  if (count < 0) return -1;
  meta->data[h + H_MAPS_OFF] = (double)maps_off;
  meta->data[h + H_MAPS_LEN] = (double)(out->len - maps_off);
  meta->data[h + H_MAPS_COUNT] = (double)count;
  double overflow = 0, kept = 0;
  int err = 0;
  int rc = read_fds(pid_fd, max_held - 1 - (double)count, meta, out, &overflow, &kept, &err);
  close(pid_fd);
  if (rc == -2) return -1;
  if (rc < 0) {
    meta->data[h + H_FAIL] = FAIL_FD;
    meta->data[h + H_ERRNO] = err;
    return 0;
  }
  meta->data[h + H_FD_OVERFLOW] = overflow;
  meta->data[h + H_FD_COUNT] = kept;
  return 0;
}

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static napi_value read_batch(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return throw_error(env, "readBatch(procRoot, pids, maxHeldFiles)");
  char root[4096];
  size_t root_len;
  if (napi_get_value_string_utf8(env, argv[0], root, sizeof root, &root_len) != napi_ok || root_len >= sizeof root - 1) return throw_error(env, "readBatch: procRoot must be a string");
  napi_typedarray_type type;
  size_t count;
  void *data;
  if (napi_get_typedarray_info(env, argv[1], &type, &count, &data, NULL, NULL) != napi_ok || type != napi_int32_array) return throw_error(env, "readBatch: pids must be an Int32Array");
  double max_held;
  if (napi_get_value_double(env, argv[2], &max_held) != napi_ok) return throw_error(env, "readBatch: maxHeldFiles must be a number");
  int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    char message[128];
    snprintf(message, sizeof message, "readBatch: cannot open the proc root (errno %d)", errno);
    return throw_error(env, message);
  }
  nums_t meta = {0};
  bytes_t out = {0};
  const int32_t *pids = data;
  int failed = 0;
  for (size_t i = 0; i < count && !failed; i++) failed = read_one(root_fd, pids[i], max_held, &meta, &out) < 0;
  close(root_fd);
  if (failed) {
    free(meta.data);
    free(out.data);
    return throw_error(env, "readBatch: out of memory");
  }
  napi_value bytes, buffer, meta_array, result;
  void *copy;
  napi_status s = napi_create_buffer_copy(env, out.len, out.len ? out.data : "", &copy, &bytes);
  void *meta_data;
  if (s == napi_ok) s = napi_create_arraybuffer(env, meta.len * sizeof(double), &meta_data, &buffer);
  if (s == napi_ok && meta.len) memcpy(meta_data, meta.data, meta.len * sizeof(double));
  if (s == napi_ok) s = napi_create_typedarray(env, napi_float64_array, meta.len, buffer, 0, &meta_array);
  if (s == napi_ok) s = napi_create_array_with_length(env, 2, &result);
  if (s == napi_ok) s = napi_set_element(env, result, 0, bytes);
  if (s == napi_ok) s = napi_set_element(env, result, 1, meta_array);
  free(meta.data);
  free(out.data);
  if (s != napi_ok) return throw_error(env, "readBatch: cannot build the result");
  return result;
}

// readOwner(procRoot, pid): [bytes, statusLength or -errno, cgroupLength or -errno], status's
// bytes first: what completeImage reads of a stale process, in one call instead of six.
static napi_value read_owner(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return throw_error(env, "readOwner(procRoot, pid)");
  char path[4200];
  size_t root_len;
  if (napi_get_value_string_utf8(env, argv[0], path, 4096, &root_len) != napi_ok || root_len >= 4095) return throw_error(env, "readOwner: procRoot must be a string");
  int32_t pid;
  if (napi_get_value_int32(env, argv[1], &pid) != napi_ok) return throw_error(env, "readOwner: pid must be a number");
  snprintf(path + root_len, sizeof path - root_len, "/%d", pid);
  bytes_t out = {0};
  double lengths[2];
  const char *names[2] = {"status", "cgroup"};
  int pid_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int open_errno = errno;
  for (int i = 0; i < 2; i++) {
    ssize_t n = pid_fd < 0 ? -open_errno : read_all(pid_fd, names[i]);
    lengths[i] = (double)n;
    if (n > 0 && put_bytes(&out, file_buf, (size_t)n)) {
      free(out.data);
      if (pid_fd >= 0) close(pid_fd);
      return throw_error(env, "readOwner: out of memory");
    }
  }
  if (pid_fd >= 0) close(pid_fd);
  napi_value bytes, result, len0, len1;
  void *copy;
  napi_status st = napi_create_buffer_copy(env, out.len, out.len ? out.data : "", &copy, &bytes);
  free(out.data);
  if (st == napi_ok) st = napi_create_double(env, lengths[0], &len0);
  if (st == napi_ok) st = napi_create_double(env, lengths[1], &len1);
  if (st == napi_ok) st = napi_create_array_with_length(env, 3, &result);
  if (st == napi_ok) st = napi_set_element(env, result, 0, bytes);
  if (st == napi_ok) st = napi_set_element(env, result, 1, len0);
  if (st == napi_ok) st = napi_set_element(env, result, 2, len1);
  if (st != napi_ok) return throw_error(env, "readOwner: cannot build the result");
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "readBatch", NAPI_AUTO_LENGTH, read_batch, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "readBatch", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "readOwner", NAPI_AUTO_LENGTH, read_owner, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "readOwner", fn) != napi_ok) return NULL;
  return exports;
}
