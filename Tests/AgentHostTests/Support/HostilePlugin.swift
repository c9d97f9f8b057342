import ActionPluginKit
import Foundation
import ZumikTestSupport

/// A C plugin built at test time whose reader misbehaves by action id: `reader_crash` dereferences
/// null, `reader_exit` calls `exit(0)`, `reader_hang` never returns, `reader_probe` reports what it
/// can see (its pid, open descriptors, environment), anything else answers `{"ok":true}`.
enum HostilePlugin {
    static let bundleID = "ai.zumik.test.hostile"

    static let source = """
        #include <fcntl.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <unistd.h>
        #include "zumik_action_abi.h"
        extern char **environ;
        static char *interpret(const char *id, int32_t status, int32_t sig, const uint8_t *out, size_t out_len,
                               const uint8_t *err, size_t err_len) {
            if (strcmp(id, "reader_crash") == 0) { volatile int *p = 0; *p = 1; }
            if (strcmp(id, "reader_exit") == 0) exit(0);
            if (strcmp(id, "reader_hang") == 0) for (;;) pause();
            if (strcmp(id, "reader_probe") == 0) {
                char *buf = malloc(4096);
                int n = snprintf(buf, 4096, "{\\"pid\\":%d,\\"fds\\":[", (int)getpid());
                int first = 1;
                for (int fd = 0; fd < 4096; fd++) {
                    if (fcntl(fd, F_GETFD) < 0) continue;
                    n += snprintf(buf + n, 4096 - n, first ? "%d" : ",%d", fd);
                    first = 0;
                }
                int env = 0;
                while (environ && environ[env]) env++;
                snprintf(buf + n, 4096 - n, "],\\"env\\":%d}", env);
                return buf;
            }
            return strdup("{\\"ok\\":true}");
        }
        static void release(char *s) { free(s); }
        static const zumik_action_table table = {
            ZUMIK_ACTION_MAGIC, ZUMIK_ACTION_ABI_MAJOR, ZUMIK_ACTION_ABI_MINOR, sizeof(zumik_action_table), 0,
            SIGNATURE, "ai.zumik.test.hostile", interpret, release};
        const zumik_action_table *zumik_action_bundle_entry(void) { return &table; }
        """

    /// Compiles the plugin into `directory` and returns the library's path.
    static func build(in directory: String) throws -> String {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let sourcePath = directory + "/hostile.c"
        let libraryPath = directory + "/libHostile.so"
        try source.write(toFile: sourcePath, atomically: false, encoding: .utf8)
        let compiler = Process()
        compiler.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
        compiler.arguments = [
            "-shared", "-fPIC", "-O1", "-D_Nullable=", "-D_Nonnull=",
            "-DSIGNATURE=\"\(BundleABI.buildSignature)\"",
            "-I", repository.path + "/Sources/CActionABI/include", sourcePath, "-o", libraryPath,
        ]
        try compiler.run()
        compiler.waitUntilExit()
        guard compiler.terminationStatus == 0 else {
            throw RawHTTPError(message: "cc failed with status \(compiler.terminationStatus)")
        }
        return libraryPath
    }

    /// A manifest whose actions all run `true` and whose reader is chosen by id.
    static func manifest(_ ids: [String]) -> String {
        testManifest(bundleID: bundleID, actions: ids.map { ($0, "true", 10, $0) })
    }
}
