import AgentHost
import Logging

/// The actions the agent serves: the signed bundles in the bundle directory.
func makeActionProvider(configuration: AgentConfiguration, logger: Logger) -> any ActionProvider {
    // Until the bundle loader (issue-2) is merged, the agent serves no actions.
    StaticActionProvider(actions: [], refused: [])
}
