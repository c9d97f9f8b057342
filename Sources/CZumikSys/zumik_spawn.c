#define _GNU_SOURCE
#include "zumik_spawn.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/// The attributes and file actions every child of the agent gets: a process group of its own,
/// default signal dispositions, an empty signal mask, stdin from /dev/null, cwd "/". 0 or an errno
/// value (then nothing is left to destroy).
static int prepare(posix_spawnattr_t *attr, posix_spawn_file_actions_t *actions) {
    int rc = posix_spawn_file_actions_init(actions);
    if (rc != 0) return rc;
    rc = posix_spawnattr_init(attr);
    if (rc != 0) {
        posix_spawn_file_actions_destroy(actions);
        return rc;
    }
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    if ((rc = posix_spawnattr_setflags(attr, flags)) == 0 && (rc = posix_spawnattr_setpgroup(attr, 0)) == 0 &&
        (rc = posix_spawnattr_setsigdefault(attr, &all)) == 0 && (rc = posix_spawnattr_setsigmask(attr, &none)) == 0 &&
        (rc = posix_spawn_file_actions_addopen(actions, 0, "/dev/null", O_RDONLY, 0)) == 0 &&
        (rc = posix_spawn_file_actions_addchdir_np(actions, "/")) == 0) {
        return 0;
    }
    posix_spawnattr_destroy(attr);
    posix_spawn_file_actions_destroy(actions);
    return rc;
}

int zumik_spawn(const char *path, char *const argv[], char *const envp[], int stdout_fd, int stderr_fd,
                pid_t *pid) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    int rc = prepare(&attr, &actions);
    if (rc != 0) return rc;
    if ((rc = posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1)) == 0 &&
        (rc = posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2)) == 0 &&
        (rc = posix_spawn_file_actions_addclosefrom_np(&actions, 3)) == 0) {
        rc = posix_spawn(pid, path, &actions, &attr, argv, envp);
    }
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    return rc;
}

int zumik_spawn_helper(const char *path, char *const argv[], char *const envp[], int image_fd, int input_fd,
                       int stdout_fd, pid_t *pid) {
    // Copies above the target numbers, so that no dup2 overwrites a source still needed.
    int image = fcntl(image_fd, F_DUPFD_CLOEXEC, 10);
    if (image < 0) return errno;
    int input = fcntl(input_fd, F_DUPFD_CLOEXEC, 10);
    if (input < 0) {
        int saved = errno;
        close(image);
        return saved;
    }
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    int rc = prepare(&attr, &actions);
    if (rc == 0) {
        if ((rc = posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1)) == 0 &&
            (rc = posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)) == 0 &&
            (rc = posix_spawn_file_actions_adddup2(&actions, image, 3)) == 0 &&
            (rc = posix_spawn_file_actions_adddup2(&actions, input, 4)) == 0 &&
            (rc = posix_spawn_file_actions_addclosefrom_np(&actions, 5)) == 0) {
            rc = posix_spawn(pid, path, &actions, &attr, argv, envp);
        }
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&actions);
    }
    close(image);
    close(input);
    return rc;
}

int zumik_limit_self(unsigned long cpu_seconds, unsigned long address_space_bytes) {
    struct rlimit cpu = {cpu_seconds, cpu_seconds + 1};
    struct rlimit as = {address_space_bytes, address_space_bytes};
    struct rlimit core = {0, 0};
    if (setrlimit(RLIMIT_CPU, &cpu) != 0) return -1;
    if (setrlimit(RLIMIT_AS, &as) != 0) return -1;
    if (setrlimit(RLIMIT_CORE, &core) != 0) return -1;
    return 0;
}

int zumik_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int zumik_become_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int zumik_lstat(const char *path, unsigned int *mode, unsigned int *uid) {
    struct stat info;
    if (lstat(path, &info) != 0) return -1;
    *mode = (unsigned int)info.st_mode;
    *uid = (unsigned int)info.st_uid;
    return 0;
}

int zumik_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int zumik_has_exited(pid_t pid) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return -1;
    return info.si_pid != 0 ? 1 : 0;
}

int zumik_malloc_arena_max(int arenas) {
    const char *given = getenv("MALLOC_ARENA_MAX");
    if (given != NULL && given[0] != '\0') return 1;
    return mallopt(M_ARENA_MAX, arenas);
}

int zumik_malloc_trim(void) { return malloc_trim(0); }

int zumik_set_thread_name(const char *name) {
    char bounded[16];
    strncpy(bounded, name, sizeof bounded - 1);
    bounded[sizeof bounded - 1] = '\0';
    return pthread_setname_np(pthread_self(), bounded);
}
