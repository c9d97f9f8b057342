// Small wrappers over Linux calls that need _GNU_SOURCE or are awkward from Swift.
#ifndef ZUMIK_SYS_H
#define ZUMIK_SYS_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Creates an anonymous memory file (MFD_CLOEXEC | MFD_ALLOW_SEALING), writes `len` bytes,
/// and seals it against write, grow, shrink and further sealing.
/// Returns the fd, or -1 with errno set.
int zumik_sealed_memfd(const char *name, const void *bytes, size_t len);

/// Returns the seals on fd (F_GET_SEALS), or -1 with errno set.
int zumik_get_seals(int fd);

/// 1 if all of write/grow/shrink/seal seals are set.
int zumik_is_fully_sealed(int fd);

#ifdef __cplusplus
}
#endif
#endif
