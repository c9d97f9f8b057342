// The Zumik action-bundle ABI: the only thing that crosses the plugin boundary.
//
// A bundle's shared library exports one C symbol, ZUMIK_ACTION_ENTRY_SYMBOL, of type
// zumik_action_entry_fn. It returns a pointer to a static, immutable table. Only C types
// appear here: Swift types do not share identity across two images.
//
// Versioning: the host refuses a table whose magic differs, whose abi_major differs from
// its own, whose abi_minor is newer than its own, whose struct_size differs from
// sizeof(zumik_action_table) for that major, or whose build_signature differs from the
// host's (it names the Swift compiler that built it).
#ifndef ZUMIK_ACTION_ABI_H
#define ZUMIK_ACTION_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// "ZUMIKAB1" as a little-endian 64-bit integer.
#define ZUMIK_ACTION_MAGIC 0x3142414B494D555AULL
#define ZUMIK_ACTION_ABI_MAJOR 1
#define ZUMIK_ACTION_ABI_MINOR 0
#define ZUMIK_ACTION_ENTRY_SYMBOL "zumik_action_bundle_entry"

/// Reads one command's result. Returns a NUL-terminated UTF-8 JSON object allocated by the
/// plugin (release it with the table's free_string), or NULL if the plugin has nothing to say.
/// exit_status is the exit code, or -1 when the process was killed by term_signal (else 0).
typedef char *_Nullable (*zumik_action_interpret_fn)(
    const char *_Nonnull action_id,
    int32_t exit_status,
    int32_t term_signal,
    const uint8_t *_Nullable stdout_bytes, size_t stdout_len,
    const uint8_t *_Nullable stderr_bytes, size_t stderr_len);

typedef void (*zumik_action_free_fn)(char *_Nullable string);

typedef struct zumik_action_table {
    uint64_t magic;
    uint32_t abi_major;
    uint32_t abi_minor;
    /// sizeof(zumik_action_table) as the plugin was compiled.
    uint32_t struct_size;
    uint32_t reserved;
    /// e.g. "zumik-abi/1;swift/6.3.1;linux-x86_64" (BundleABI.buildSignature). Static storage.
    const char *_Nonnull build_signature;
    /// The bundle id this library belongs to; must equal the signed manifest's. Static storage.
    const char *_Nonnull bundle_id;
    zumik_action_interpret_fn _Nonnull interpret;
    zumik_action_free_fn _Nonnull free_string;
} zumik_action_table;

typedef const zumik_action_table *_Nonnull (*zumik_action_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
