// Spawning an action's command: the ops-agent's runner uses these from Swift.
#ifndef ZUMIK_SPAWN_H
#define ZUMIK_SPAWN_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Spawns `path` with exactly `argv` and `envp` (both NULL-terminated), no shell, in a new
/// process group of its own (pgid == pid), with default signal dispositions and an empty
/// signal mask, working directory "/", stdin from /dev/null, stdout and stderr on the given
/// descriptors, and every other descriptor closed.
/// Returns 0 and sets *pid, or an errno value.
int zumik_spawn(const char *path, char *const argv[], char *const envp[], int stdout_fd, int stderr_fd,
                pid_t *pid);

/// Spawns the plugin reader helper: `path` with `argv` and `envp`, in a process group of its own,
/// default signal dispositions, cwd "/", stdin and stderr on /dev/null, stdout on `stdout_fd`,
/// `image_fd` as descriptor 3 and `input_fd` (its socket to the agent) as descriptor 4, every other
/// descriptor closed.
/// Returns 0 and sets *pid, or an errno value.
int zumik_spawn_helper(const char *path, char *const argv[], char *const envp[], int image_fd, int input_fd,
                       int stdout_fd, pid_t *pid);

/// Sets this process's RLIMIT_CPU (seconds), RLIMIT_AS (bytes) and RLIMIT_CORE (0).
/// 0, or -1 with errno set.
int zumik_limit_self(unsigned long cpu_seconds, unsigned long address_space_bytes);

/// pipe2(fds, O_CLOEXEC). 0, or -1 with errno set.
int zumik_pipe_cloexec(int fds[2]);

/// Makes this process a child subreaper (PR_SET_CHILD_SUBREAPER), so that orphans of an action's
/// process group are reparented here and can be reaped. 0, or -1 with errno set.
int zumik_become_subreaper(void);

/// lstat(2) reduced to what the safe-path checks need. 0, or -1 with errno set.
int zumik_lstat(const char *path, unsigned int *mode, unsigned int *uid);

/// pidfd_open(2): a descriptor that polls readable when the process exits. -1 with errno set
/// where the kernel lacks it.
int zumik_pidfd_open(pid_t pid);

/// Caps glibc's malloc arenas (mallopt M_ARENA_MAX) unless MALLOC_ARENA_MAX is set in the
/// environment. 1 on success, 0 on failure (as mallopt).
int zumik_malloc_arena_max(int arenas);

/// Names the calling thread (pthread_setname_np; at most 15 bytes are kept). 0 or an errno value.
int zumik_set_thread_name(const char *name);

/// Returns free heap memory to the system (malloc_trim(0)). 1 if any was released.
int zumik_malloc_trim(void);

/// 1 if `pid` has exited (without reaping it: WNOWAIT), 0 if it is still running, -1 on error.
int zumik_has_exited(pid_t pid);

#ifdef __cplusplus
}
#endif
#endif
