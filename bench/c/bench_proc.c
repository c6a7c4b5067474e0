/* Runs a command R times as a fresh process and reports its wall time and
 * peak RSS (wait4's ru_maxrss), as a script or CLI pays them:
 *
 *   bench_proc R command [args...]
 *
 * Prints "wall_ms <median>", "wall_ms_min <min>", "maxrss_kb <median>",
 * "runs <R>". Exits non-zero if any run fails. The child's stdout goes to
 * /dev/null; its stderr is kept. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
  int runs, i;
  double *wall, *rss;
  if (argc < 3 || (runs = atoi(argv[1])) < 1 || runs > 1000) {
    fprintf(stderr, "usage: bench_proc RUNS command [args...]\n");
    return 2;
  }
  wall = (double *)calloc((size_t)runs, sizeof *wall);
  rss = (double *)calloc((size_t)runs, sizeof *rss);
  if (wall == NULL || rss == NULL) return 1;
  for (i = 0; i < runs; i++) {
    struct rusage ru;
    int status = 0;
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) { perror("bench_proc: fork"); return 1; }
    if (pid == 0) {
      int fd = open("/dev/null", O_WRONLY);
      if (fd >= 0) dup2(fd, 1);
      execvp(argv[2], argv + 2);
      perror("bench_proc: exec");
      _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) != pid) { perror("bench_proc: wait4"); return 1; }
    wall[i] = (now() - t0) * 1000;
    rss[i] = (double)ru.ru_maxrss;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "bench_proc: run %d failed (status %d)\n", i + 1, status);
      return 1;
    }
  }
  printf("runs %d\n", runs);
  printf("maxrss_kb %.0f\n", median(rss, runs));
  printf("wall_ms %.2f\n", median(wall, runs));
  qsort(wall, (size_t)runs, sizeof *wall, cmp);
  printf("wall_ms_min %.2f\n", wall[0]);
  free(wall);
  free(rss);
  return 0;
}
