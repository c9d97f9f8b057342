#define _GNU_SOURCE
#include "zumik_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

/// A memfd created with `flags` holding `len` bytes; -1 with errno set.
static int memfd_with(const char *name, const void *bytes, size_t len, unsigned int flags) {
    int fd = memfd_create(name, flags);
    if (fd < 0) return -1;
    const char *p = (const char *)bytes;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        p += n;
        left -= (size_t)n;
    }
    return fd;
}

int zumik_sealed_memfd(const char *name, const void *bytes, size_t len) {
    int fd = memfd_with(name, bytes, len, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -1;
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int zumik_get_seals(int fd) { return fcntl(fd, F_GET_SEALS); }

int zumik_is_fully_sealed(int fd) {
    int s = fcntl(fd, F_GET_SEALS);
    if (s < 0) return 0;
    int want = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL;
    return (s & want) == want;
}
