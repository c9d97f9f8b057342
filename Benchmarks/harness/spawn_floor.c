// The floor under any "run /bin/true over HTTP" figure: posix_spawn + waitpid of /bin/true, one at a time.
// usage: spawn_floor ITERATIONS MAX_SECONDS [FSYNC_FILE]   prints one JSON line (times in microseconds).
// With FSYNC_FILE, also the floor of a durable audit record: append 200 bytes + fsync, 300 times.
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    double max_s = argc > 2 ? atof(argv[2]) : 20.0;
    if (n < 1 || n > 1000000) return 2;
    double *t = calloc((size_t)n, sizeof(double));
    char *child_argv[] = {"/bin/true", NULL};
    char *child_env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    double start = now_us();
    int done = 0, failed = 0;
    for (int i = 0; i < n + 50; i++) {  // the first 50 warm up and are not counted
        double t0 = now_us();
        pid_t pid;
        int status = 0;
        if (posix_spawn(&pid, "/bin/true", NULL, NULL, child_argv, child_env) != 0 ||
            waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            failed++;
            continue;
        }
        double dt = now_us() - t0;
        if (i >= 50) t[done++] = dt;
        if (now_us() - start > max_s * 1e6) break;
    }
    double total = 0;
    for (int i = 0; i < done; i++) total += t[i];
    qsort(t, (size_t)done, sizeof(double), cmp);
    if (done == 0) {
        printf("{\"runs\":0,\"failed\":%d}\n", failed);
        return 1;
    }
    printf("{\"runs\":%d,\"failed\":%d,\"p50_us\":%.1f,\"p99_us\":%.1f,\"mean_us\":%.1f,\"runs_per_s\":%.1f", done,
           failed, t[done / 2], t[(int)(done * 0.99)], total / done, done / (total / 1e6));
    // The distribution for the plots: [percentile, µs] pairs, as wrk_paths.lua gives them.
    static const double qs[] = {0, 1, 2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 98, 99, 99.5, 99.9, 100};
    printf(",\"q_us\":[");
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
        printf("%s[%g,%.1f]", i ? "," : "", qs[i], t[(int)((done - 1) * qs[i] / 100)]);
    printf("]");
    if (argc > 3) {
        int fd = open(argv[3], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        char line[200];
        for (int i = 0; i < 199; i++) line[i] = 'x';
        line[199] = '\n';
        int m = 0;
        for (int i = 0; fd >= 0 && i < 300; i++) {
            double t0 = now_us();
            if (write(fd, line, sizeof line) != (ssize_t)sizeof line || fsync(fd) != 0) break;
            t[m++] = now_us() - t0;
        }
        if (fd >= 0) close(fd);
        unlink(argv[3]);
        if (m > 0) {
            qsort(t, (size_t)m, sizeof(double), cmp);
            printf(",\"fsync_p50_us\":%.1f,\"fsync_p99_us\":%.1f", t[m / 2], t[(int)(m * 0.99)]);
        }
    }
    printf("}\n");
    free(t);
    return failed ? 1 : 0;
}
