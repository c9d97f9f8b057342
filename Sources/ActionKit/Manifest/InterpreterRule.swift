/// "No shell, ever": an action's `argv[0]` may not be a shell, a general-purpose interpreter or a
/// program whose job is to run another command line, because any of them turns a fixed argv back
/// into a program written in the manifest (`/bin/sh -c "…"`, `python3 -c …`, `env sh …`).
///
/// Matched on the basename of `argv[0]`: exact names, and name families by prefix (`python3.12`,
/// `perl5.36`, `lua5.4`, `php8.2`). A shell or interpreter further down the argv followed by an
/// inline-code flag (`docker exec box sh -c …`) is refused too.
enum InterpreterRule {
    /// Shells.
    static let shells: Set<String> = [
        "sh", "bash", "dash", "zsh", "ksh", "mksh", "pdksh", "oksh", "ash", "csh", "tcsh", "fish", "yash", "posh",
        "rc", "es", "elvish", "nu", "xonsh", "pwsh", "powershell", "rbash",
    ]
    /// Multi-call binaries and command runners: they run another command named in their arguments.
    static let runners: Set<String> = [
        "busybox", "toybox", "env", "sudo", "su", "doas", "runuser", "xargs", "nohup", "setsid", "stdbuf", "nice",
        "ionice", "chrt", "taskset", "timeout", "flock", "chroot", "unshare", "nsenter", "setpriv", "script",
        "watch", "strace", "ltrace", "gdb", "expect",
    ]
    /// Interpreters by exact name.
    static let interpreters: Set<String> = [
        "node", "nodejs", "deno", "bun", "awk", "gawk", "mawk", "nawk", "tclsh", "wish", "jshell", "jrunscript",
        "irb", "erl", "escript", "elixir", "iex", "guile", "racket", "sbcl", "clisp", "ecl", "ghci", "runghc",
        "runhaskell", "julia", "R", "Rscript", "osascript", "qjs", "rhino", "groovy", "scala", "kotlin",
    ]
    /// Interpreter families, by prefix of the basename.
    static let families = ["python", "pypy", "perl", "ruby", "jruby", "php", "lua", "luajit", "tcl", "octave"]
    /// Flags that hand an interpreter inline code.
    static let inlineCodeFlags: Set<String> = ["-c", "-e", "-E", "--eval", "--command", "-r", "--exec"]

    /// Why `executable` (an argv[0]) is refused, naming the rule, or nil.
    static func problem(executable: String) -> String? {
        let name = basename(executable)
        if shells.contains(name) { return "must not be a shell (\(name)): no shell, ever; give the command's own argv" }
        if runners.contains(name) {
            return "must not be a command runner (\(name)): it would run a command the manifest writes as text"
        }
        if isInterpreter(name) {
            return "must not be an interpreter (\(name)): no inline programs; ship a fixed executable instead"
        }
        return nil
    }

    /// Why the argument at `index` (after the first) is refused: a shell or interpreter followed by
    /// an inline-code flag, e.g. `docker exec box sh -c …`.
    static func problem(argv: [String], index: Int) -> String? {
        guard index > 0, index + 1 < argv.count, inlineCodeFlags.contains(argv[index + 1]) else { return nil }
        let name = basename(argv[index])
        guard shells.contains(name) || isInterpreter(name) else { return nil }
        return "must not start inline code (\(name) \(argv[index + 1])): no shell, ever"
    }

    static func isInterpreter(_ name: String) -> Bool {
        if interpreters.contains(name) { return true }
        return families.contains { family in
            guard name.hasPrefix(family) else { return false }
            // python, python3, python3.12, python-3: the family name then only version characters.
            return name.dropFirst(family.count).allSatisfy { $0.isNumber || $0 == "." || $0 == "-" }
        }
    }

    static func basename(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
