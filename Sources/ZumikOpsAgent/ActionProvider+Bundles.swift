import AgentHost
import BundleLoading
import Logging

/// The actions the agent serves: the signed bundles in the bundle directory, loaded now (and again
/// on SIGHUP).
func makeActionProvider(configuration: AgentConfiguration, logger: Logger) -> any ActionProvider {
    let registry = BundleRegistry(
        directories: BundleDirectories(
            bundles: configuration.bundlesDirectory,
            trustedKeys: configuration.trustedKeysDirectory,
            state: configuration.stateDirectory
        ),
        logger: logger
    )
    registry.reload()
    return registry
}
