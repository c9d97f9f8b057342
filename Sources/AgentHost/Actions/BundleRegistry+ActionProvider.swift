import ActionKit
public import BundleLoading

/// The production source of actions: the verified, loaded bundles.
extension BundleRegistry: ActionProvider {
    public func runnableAction(id: String) -> RunnableAction? {
        guard let loaded = action(id: id) else { return nil }
        return RunnableAction(spec: loaded.spec, bundle: loaded.bundle) { exitCode, signal, stdout, stderr in
            loaded.interpret(
                exitCode: exitCode.map { Int32(truncatingIfNeeded: $0) },
                signal: signal.map { Int32(truncatingIfNeeded: $0) },
                stdout: stdout,
                stderr: stderr
            )
        }
    }

    public func reloadActions() {
        reload()
    }
}
