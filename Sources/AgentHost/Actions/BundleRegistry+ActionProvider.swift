import ActionKit
public import BundleLoading

/// The production source of actions: the verified, loaded bundles.
extension BundleRegistry: ActionProvider {
    public func runnableAction(id: String) -> RunnableAction? {
        guard let loaded = action(id: id) else { return nil }
        let helper = ReaderIsolation.current
        return RunnableAction(spec: loaded.spec, bundle: loaded.bundle) { exitCode, signal, stdout, stderr in
            let exitCode = exitCode.map { Int32(truncatingIfNeeded: $0) }
            let signal = signal.map { Int32(truncatingIfNeeded: $0) }
            guard let helper else {
                return loaded.interpret(exitCode: exitCode, signal: signal, stdout: stdout, stderr: stderr)
            }
            let input = ReaderInput(
                actionID: loaded.spec.id,
                exitCode: exitCode,
                signal: signal,
                stdout: stdout,
                stderr: stderr
            )
            switch ReaderProcess.interpret(helper: helper, imageFD: loaded.image.memfd, input: input) {
            case .success(let answer):
                return answer
            case .failure(let failure):
                return .object(["ok": .bool(false), "error": .string("reader failed: \(failure.description)")])
            }
        }
    }

    public func reloadActions() {
        reload()
    }
}
